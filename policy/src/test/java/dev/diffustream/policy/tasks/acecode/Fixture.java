package dev.diffustream.policy.tasks.acecode;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

/**
 * The hand-written AceCode fixture {@code tasks/acecode/fixture.jsonl} (8 rows). Per row: the pass
 * rates of the two default models ({@code accs}), their mean and population std, and the branch it
 * exercises.
 *
 * <pre>
 * row     accs          mean   std    exercises
 * row-a   [0, 0.5]      0.25   0.25   hard keeps it (both thresholds met with equality); augmented,
 *                                     best = the gpt-4o completion (1.0), counted although not a
 *                                     default model
 * row-b   [0, 0]        0      0      passes hard's mean filter, fails its std filter; "your"
 * row-c   [0, 1]        0.5    0.5    fails hard's mean filter; medium; "layout" contains "you"
 * 4       [1, 1]        1      0      integer id; easy; fenced question (no test case in prompt);
 *                                     augmented with signature inc(x)
 * row-e   [1, 0.5]      0.75   0.25   easy; best completion starts with "import": not augmented
 * row-f   [0.25, 0.75]  0.5    0.25   medium; tie at 0.75, the first (llama, "\n  def lead(x)")
 *                                     wins over gpt-4o; whitespace stripped
 * row-g   []            -      -      only gpt-4o inferences: empty accs
 * row-h   []            -      -      no inferences at all, no source: never augmented
 * </pre>
 *
 * Thresholds over the 6 rows with accs (n = 6, so virtual index = 5 · q/100):
 *
 * <pre>
 * sorted means = [0, .25, .5, .5, .75, 1]     (b, a, c, f, e, 4)
 * sorted stds  = [0, 0, .25, .25, .25, .5]    (b, 4, a, e, f, c)
 * p20(means) : index 5 · 0.2  = 1.0  -> sorted[1]                        = 0.25
 * p40(stds)  : index 5 · 0.4  = 2.0  -> sorted[2]                        = 0.25
 * p25(means) : index 1.25 -> .25 + (.5 - .25) · .25                     = 0.3125
 * p75(means) : index 3.75 -> fraction .75 ≥ .5, from above: .75 - (.75 - .5) · .25 = 0.6875
 * hard   : mean ≤ .25 -> {a, b}; then std ≥ .25 -> {a}
 * medium : .3125 ≤ mean ≤ .6875 -> {c, f}
 * easy   : mean ≥ .6875 -> {4, e}
 * </pre>
 *
 * With only {@code qwen_coder_2.5}: accs a [0], b [0], c [0], 4 [1], e [1], f [0.25]; sorted means
 * [0, 0, 0, .25, 1, 1], p20 = sorted[1] = 0; all stds 0, p40 = 0; hard keeps {a, b, c}.
 */
final class Fixture {

    static final List<String> IDS =
            List.of("row-a", "row-b", "row-c", "4", "row-e", "row-f", "row-g", "row-h");

    private Fixture() {}

    static Path path() {
        try {
            return Path.of(Fixture.class.getResource("/tasks/acecode/fixture.jsonl").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<AceCodeRow> rows() {
        return AceCodeReader.read(path());
    }

    static AceCodeRow row(String id) {
        return rows().stream().filter(r -> r.id().equals(id)).findFirst().orElseThrow();
    }
}

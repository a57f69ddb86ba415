package dev.diffustream.policy.tasks.builtin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.CodeTasks;
import dev.diffustream.policy.tasks.DiffuCoderPrompts;
import dev.diffustream.policy.tasks.TaskSplit;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Structure, determinism and the held-out composition rule of the built-in suite (no Python). */
class BuiltinSuiteTest {

    /** The format check of spec B.1 (DOTALL, whole string). */
    private static final Pattern FORMAT =
            Pattern.compile(
                    "(?:(?!```)[\\s\\S])*?```python\\n(?:(?!```)[\\s\\S])*?```\\n", Pattern.DOTALL);

    /** The code extraction of spec B.2. */
    private static final Pattern BLOCK = Pattern.compile("```python\\n(.*?)```", Pattern.DOTALL);

    private static List<BuiltinTask> train;
    private static List<BuiltinTask> heldout;

    @BeforeAll
    static void generateDefaultSuite() {
        BuiltinSuite suite = new BuiltinSuite();
        train = suite.tasks(TaskSplit.TRAIN);
        heldout = suite.tasks(TaskSplit.HELDOUT);
    }

    private static Set<String> unorderedCompositions(List<BuiltinTask> tasks) {
        return tasks.stream()
                .map(t -> t.family() + ":" + t.operations().stream().sorted().toList())
                .collect(Collectors.toSet());
    }

    @Test
    void shouldGenerateAtLeast2000TrainAnd200HeldOutTasksInEveryFamily() {
        assertThat(train).hasSizeGreaterThanOrEqualTo(2000);
        assertThat(heldout).hasSizeGreaterThanOrEqualTo(200);
        assertThat(BuiltinSuite.families())
                .containsExactly(
                        "arithmetic", "strings", "lists", "conditionals", "loops", "logic");
        Map<String, Long> perFamily =
                train.stream()
                        .collect(Collectors.groupingBy(BuiltinTask::family, Collectors.counting()));
        assertThat(perFamily.keySet()).containsExactlyInAnyOrderElementsOf(BuiltinSuite.families());
        assertThat(perFamily.values()).allSatisfy(n -> assertThat(n).isEqualTo(500L));
    }

    @Test
    void shouldGiveStableIdsAndMetadata() {
        assertThat(train.get(42).task().id()).isEqualTo("builtin/train/00042");
        assertThat(heldout.get(7).task().id()).isEqualTo("builtin/heldout/00007");
        for (BuiltinTask t : train) {
            CodeTask task = t.task();
            assertThat(task.source()).isEqualTo("builtin");
            assertThat(task.split()).isEqualTo(TaskSplit.TRAIN);
            assertThat(task.family()).isEqualTo(t.family()).isNotEmpty();
            assertThat(t.operations()).hasSize(2);
            assertThat(task.setupCode()).isNull();
            assertThat(t.signature()).startsWith(task.entryPoint() + "(").endsWith(")");
        }
    }

    @Test
    void shouldBeDeterministicForASeedAndDifferAcrossSeeds() {
        // given two suites with the same seed and one with another
        List<CodeTask> again = new BuiltinSuite(BuiltinSuite.DEFAULT_SEED).load(TaskSplit.HELDOUT);
        List<CodeTask> other = new BuiltinSuite(7).load(TaskSplit.HELDOUT);
        // then
        assertThat(again).isEqualTo(heldout.stream().map(BuiltinTask::task).toList());
        assertThat(other).isNotEqualTo(again);
        assertThat(other.stream().map(CodeTask::id).toList())
                .isEqualTo(again.stream().map(CodeTask::id).toList());
    }

    @Test
    void shouldOnlyAppendTasksWhenTheCountGrows() {
        // given a smaller suite with the same seed
        List<CodeTask> small =
                new BuiltinSuite(BuiltinSuite.DEFAULT_SEED, 120, 30).load(TaskSplit.TRAIN);
        // then it is a prefix of the default one
        assertThat(small).isEqualTo(train.subList(0, 120).stream().map(BuiltinTask::task).toList());
    }

    @Test
    void shouldGenerateMoreTasksThanACompositionWithoutConstantsHasPrompts() {
        // given a train split far larger than the default: compositions without constants (loops
        // max_of+square) have only as many prompts as name choices, and stopped seed 42 at 3790
        List<BuiltinTask> large =
                new BuiltinSuite(BuiltinSuite.DEFAULT_SEED, 12_000, 0).tasks(TaskSplit.TRAIN);
        // then every prompt is still unique, the default split is a prefix, and no held-out
        // composition fills the gap
        assertThat(large).hasSize(12_000);
        assertThat(large.stream().map(t -> t.task().prompt()).distinct()).hasSize(12_000);
        assertThat(large.subList(0, train.size())).isEqualTo(train);
        Set<String> heldOutCompositions = unorderedCompositions(heldout);
        assertThat(unorderedCompositions(large)).doesNotContainAnyElementsOf(heldOutCompositions);
        assertThat(large.get(11_999).task().id()).isEqualTo("builtin/train/11999");
    }

    @Test
    void shouldSayHowManyTasksFitWhenAFamilyRunsOutOfPrompts() {
        // given a held-out split larger than its compositions have distinct prompts
        BuiltinSuite suite = new BuiltinSuite(BuiltinSuite.DEFAULT_SEED, 0, 100_000);
        // then the message names the limit and the split, not a stack of attempts
        assertThatThrownBy(() -> suite.load(TaskSplit.HELDOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageMatching(
                        "the builtin suite \\(seed 42\\) holds at most (\\d+) heldout tasks: every"
                                + " \\w+ composition has used up its distinct prompts at index"
                                + " \\1; ask for at most \\1");
    }

    @Test
    void shouldNeverShowAHeldOutCompositionInTrainingInEitherOrder() {
        Set<String> trainSet = unorderedCompositions(train);
        Set<String> heldSet = unorderedCompositions(heldout);
        assertThat(heldSet).doesNotContainAnyElementsOf(trainSet);
        // and the catalogue agrees with the rule (i + j) mod 5 == 2
        for (BuiltinSuite.Composition c : BuiltinSuite.compositions()) {
            Families.Family family =
                    Families.ALL.stream()
                            .filter(f -> f.name.equals(c.family()))
                            .findFirst()
                            .orElseThrow();
            int i = family.firstSlot.indexOf(c.operations().get(0));
            int j = family.secondSlot.indexOf(c.operations().get(1));
            assertThat(c.split())
                    .as(c.key())
                    .isEqualTo(BuiltinSuite.isHeldOut(i, j) ? TaskSplit.HELDOUT : TaskSplit.TRAIN);
        }
    }

    @Test
    void shouldShowEveryHeldOutPrimitiveInTrainingInTheSameSlot() {
        Set<String> trainSlots = new HashSet<>();
        for (BuiltinTask t : train) {
            trainSlots.add(t.family() + "/0/" + t.operations().get(0));
            trainSlots.add(t.family() + "/1/" + t.operations().get(1));
        }
        for (BuiltinTask t : heldout) {
            assertThat(trainSlots)
                    .contains(
                            t.family() + "/0/" + t.operations().get(0),
                            t.family() + "/1/" + t.operations().get(1));
        }
    }

    @Test
    void shouldCoverEveryHeldOutCompositionOfTheCatalogue() {
        Set<String> catalogue =
                BuiltinSuite.compositions().stream()
                        .filter(c -> c.split() == TaskSplit.HELDOUT)
                        .map(BuiltinSuite.Composition::key)
                        .collect(Collectors.toSet());
        Set<String> generated =
                heldout.stream().map(BuiltinTask::composition).collect(Collectors.toSet());
        assertThat(generated).isEqualTo(catalogue);
        assertThat(catalogue).hasSizeGreaterThanOrEqualTo(60);
    }

    @Test
    void shouldWritePromptsInTheSpecC3FormatWithoutATestCase() {
        Set<String> prompts = new HashSet<>();
        for (BuiltinTask t : train) {
            String prompt = t.task().prompt();
            // the exact text of spec C.3 ...
            assertThat(prompt)
                    .isEqualTo(
                            "Please complete the following problem:\n```\ndef "
                                    + t.signature()
                                    + ":\n    \"\"\"\n    "
                                    + t.docstring()
                                    + "\n    \"\"\"\n```\n");
            // ... which has a fenced block, so spec C.4 adds no test case
            assertThat(prompt)
                    .contains(DiffuCoderPrompts.FENCED_BLOCK_MARKER)
                    .doesNotContain("Test cases:");
            assertThat(t.docstring()).startsWith("Return ").endsWith(".");
            assertThat(prompts.add(prompt)).as("unique prompt %s", t.task().id()).isTrue();
        }
    }

    @Test
    void shouldFitTheExpectedCompletionAndEosIn64Tokens() {
        assertThat(BuiltinSuite.MAX_REFERENCE_CHARS).isEqualTo(48);
        for (List<BuiltinTask> split : List.of(train, heldout)) {
            for (BuiltinTask t : split) {
                String completion = t.expectedCompletion();
                assertThat(completion.length() + 1).as(t.task().id()).isLessThanOrEqualTo(64);
                assertThat(completion)
                        .isEqualTo("```python\n" + t.task().referenceSolution() + "\n```\n");
                assertThat(CodeTasks.expectedCompletion(t.task())).isEqualTo(completion);
            }
        }
    }

    @Test
    void shouldProduceCompletionsThatPassTheFormatCheckAndExtractToTheReference() {
        for (BuiltinTask t : train) {
            String completion = t.expectedCompletion();
            assertThat(FORMAT.matcher(completion).matches()).as(completion).isTrue();
            Matcher m = BLOCK.matcher(completion);
            assertThat(m.find()).isTrue();
            assertThat(m.group(1)).isEqualTo(t.task().referenceSolution() + "\n");
            assertThat(t.task().referenceSolution())
                    .startsWith("def " + t.signature() + ":\n    return ");
            assertThat(t.task().referenceSolution().chars().filter(c -> c == '\n').count())
                    .as("one-line body")
                    .isEqualTo(1);
        }
    }

    @Test
    void shouldWriteFourToSixAssertsCallingTheEntryPoint() {
        for (List<BuiltinTask> split : List.of(train, heldout)) {
            for (BuiltinTask t : split) {
                List<String> tests = t.task().tests();
                assertThat(tests).hasSizeBetween(4, 6);
                assertThat(tests)
                        .allSatisfy(
                                s ->
                                        assertThat(s)
                                                .startsWith("assert " + t.task().entryPoint() + "(")
                                                .contains(") == "));
                // the expected values are not all the same: a constant function cannot pass
                Set<String> expected = new HashSet<>();
                for (String s : tests) {
                    expected.add(s.substring(s.lastIndexOf(") == ") + 5));
                }
                assertThat(expected).as(t.task().id()).hasSizeGreaterThan(1);
            }
        }
    }

    @Test
    void shouldVaryNamesAndConstants() {
        Map<String, Set<String>> entryPoints = new HashMap<>();
        for (BuiltinTask t : train) {
            entryPoints
                    .computeIfAbsent(t.family(), k -> new HashSet<>())
                    .add(t.task().entryPoint());
        }
        assertThat(entryPoints.values())
                .allSatisfy(names -> assertThat(names).hasSizeGreaterThan(5));
        Set<String> signatures =
                train.stream().map(BuiltinTask::signature).collect(Collectors.toSet());
        assertThat(signatures).hasSizeGreaterThan(100);
    }

    @Test
    void shouldUseOnlyNewlinesAndPrintableAsciiSoThatOneCharacterIsOneToken() {
        Pattern charTokenizerAlphabet = Pattern.compile("[\\n\\x20-\\x7e]*");
        for (List<BuiltinTask> split : List.of(train, heldout)) {
            for (BuiltinTask t : split) {
                assertThat(t.task().prompt()).matches(charTokenizerAlphabet);
                assertThat(t.expectedCompletion()).matches(charTokenizerAlphabet);
            }
        }
    }

    @Test
    void shouldRejectTheTestSplit() {
        assertThatThrownBy(() -> new BuiltinSuite().load(TaskSplit.TEST))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("TRAIN and HELDOUT");
        assertThatThrownBy(() -> new BuiltinSuite(1, -1, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("train=-1");
    }

    @Test
    void shouldGenerateForOtherSeedsWithoutFailing() {
        for (long seed : new long[] {1, 12345}) {
            BuiltinSuite suite = new BuiltinSuite(seed, 600, 300);
            assertThat(suite.load(TaskSplit.TRAIN)).hasSize(600);
            assertThat(suite.load(TaskSplit.HELDOUT)).hasSize(300);
        }
    }
}

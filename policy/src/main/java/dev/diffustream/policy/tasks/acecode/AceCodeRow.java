package dev.diffustream.policy.tasks.acecode;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One row of an AceCode-style JSONL file (spec C.1), after reading and, possibly, after the
 * question augmentation of spec C.3.
 *
 * @param id the row's {@code id}
 * @param source the row's {@code source} (e.g. {@code oss}, {@code evol}), or {@code ""}
 * @param question the row's {@code question}, or the augmented text for an augmented copy
 * @param testCases the row's {@code test_cases}: Python statements, usually asserts (never empty)
 * @param inferences the row's {@code inferences}
 * @param augmented whether this is the augmented copy emitted by spec C.3
 * @param file the file the row was read from
 * @param line the 1-based line of the row in that file
 */
public record AceCodeRow(
        String id,
        String source,
        String question,
        List<String> testCases,
        List<Inference> inferences,
        boolean augmented,
        Path file,
        int line) {

    /**
     * One entry of {@code inferences}.
     *
     * @param completion the model's program
     * @param modelName e.g. {@code qwen_coder_2.5}
     * @param passRate fraction of the row's tests the completion passed
     */
    public record Inference(String completion, String modelName, double passRate) {
        public Inference {
            Objects.requireNonNull(completion, "completion");
            Objects.requireNonNull(modelName, "modelName");
        }
    }

    public AceCodeRow {
        Objects.requireNonNull(id, "id");
        source = source == null ? "" : source;
        Objects.requireNonNull(question, "question of row " + id);
        testCases = List.copyOf(testCases);
        inferences = List.copyOf(inferences);
    }

    /** This row with another question, marked as the augmented copy (spec C.3). */
    public AceCodeRow withAugmentedQuestion(String newQuestion) {
        return new AceCodeRow(id, source, newQuestion, testCases, inferences, true, file, line);
    }

    /** {@code file:line}, for messages. */
    public String where() {
        return file + ":" + line;
    }
}

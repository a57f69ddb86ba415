package dev.diffustream.policy.tasks;

import java.util.List;
import java.util.Objects;

/**
 * The prompt texts of DiffuCoder's data preparation (spec C.3, C.4), shared by every task suite so
 * that all of them speak to the policy in the format it was trained on.
 */
public final class DiffuCoderPrompts {

    /** First line of the "complete the problem" format of spec C.3. */
    public static final String COMPLETE_PROBLEM_HEADER = "Please complete the following problem:";

    /** A fence on a line of its own: questions containing it get no test case (spec C.4). */
    public static final String FENCED_BLOCK_MARKER = "\n```\n";

    /** What spec C.4 puts between the question and the first test case. */
    public static final String TEST_CASES_SEPARATOR = "\nTest cases: ";

    private DiffuCoderPrompts() {}

    /**
     * The augmented question of spec C.3, character for character: the header line, a fence line,
     * {@code def <signature>:}, 4 spaces + {@code """}, 4 spaces + the docstring (inserted
     * verbatim: later lines of a multi-line docstring are not re-indented, as in the release), 4
     * spaces + {@code """}, a closing fence line, and a trailing newline.
     *
     * @param signature the signature without the leading {@code def } and the trailing colon, e.g.
     *     {@code f(x)}
     */
    public static String completeProblem(String signature, String docstring) {
        Objects.requireNonNull(signature, "signature");
        Objects.requireNonNull(docstring, "docstring");
        return COMPLETE_PROBLEM_HEADER
                + "\n```\ndef "
                + signature
                + ":\n    \"\"\"\n    "
                + docstring
                + "\n    \"\"\"\n```\n";
    }

    /**
     * The user-turn text of spec C.4: the question, followed by {@code "\nTest cases: "} and the
     * first test case unless the question contains a fenced block ({@code "\n```\n"}).
     *
     * @throws IllegalArgumentException if a test case is needed and {@code testCases} is empty (the
     *     release would fail with an IndexError)
     */
    public static String userPrompt(String question, List<String> testCases) {
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(testCases, "testCases");
        if (question.contains(FENCED_BLOCK_MARKER)) {
            return question;
        }
        if (testCases.isEmpty()) {
            throw new IllegalArgumentException(
                    "the question has no fenced block, so its first test case is appended (spec"
                            + " C.4), but there are no test cases");
        }
        return question + TEST_CASES_SEPARATOR + testCases.get(0);
    }
}

package dev.diffustream.policy.tasks;

import java.util.Objects;

/** Helpers over {@link CodeTask}s shared by suites, pretraining and evaluation. */
public final class CodeTasks {

    /** Opening of the python block the format reward accepts (spec B.1). */
    public static final String PYTHON_FENCE_OPEN = "```python\n";

    /**
     * Closing of the python block: the fence and exactly one newline ending the text (spec B.1).
     */
    public static final String PYTHON_FENCE_CLOSE = "\n```\n";

    private CodeTasks() {}

    /**
     * The exact completion text a perfect policy would emit for this reference solution, in the
     * shape the format reward of spec B.1 accepts: {@code "```python\n" + code + "\n```\n"}.
     * Trailing line breaks of the reference are dropped first, so the block never ends in a blank
     * line. The EOS token ({@code <|im_end|>}) follows this text and is not part of it.
     */
    public static String expectedCompletion(String referenceSolution) {
        Objects.requireNonNull(referenceSolution, "referenceSolution");
        int end = referenceSolution.length();
        while (end > 0
                && (referenceSolution.charAt(end - 1) == '\n'
                        || referenceSolution.charAt(end - 1) == '\r')) {
            end--;
        }
        return PYTHON_FENCE_OPEN + referenceSolution.substring(0, end) + PYTHON_FENCE_CLOSE;
    }

    /**
     * The expected completion of a task (see {@link #expectedCompletion(String)}).
     *
     * @throws IllegalArgumentException if the task has no reference solution
     */
    public static String expectedCompletion(CodeTask task) {
        if (task.referenceSolution() == null) {
            throw new IllegalArgumentException("task " + task.id() + " has no reference solution");
        }
        return expectedCompletion(task.referenceSolution());
    }
}

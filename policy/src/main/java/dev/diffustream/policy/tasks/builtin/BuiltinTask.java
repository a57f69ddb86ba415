package dev.diffustream.policy.tasks.builtin;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.CodeTasks;
import java.util.List;
import java.util.Objects;

/**
 * A built-in task with the metadata analysis needs.
 *
 * @param task the task as every suite delivers it ({@link CodeTask#family()} is the family name)
 * @param operations the two primitives of the composition, in slot order (e.g. {@code [mul, add]}
 *     for "x multiplied by 3 then plus 2"; {@code [even, square]} for a conditional: condition,
 *     then branch; {@code [sum_of, square]} for a loop: aggregation, element operation)
 * @param signature the function signature without {@code def } and the colon, e.g. {@code f(x)}
 * @param docstring the behaviour as stated in the prompt
 */
public record BuiltinTask(
        CodeTask task, List<String> operations, String signature, String docstring) {

    public BuiltinTask {
        Objects.requireNonNull(task, "task");
        operations = List.copyOf(operations);
        Objects.requireNonNull(signature, "signature");
        Objects.requireNonNull(docstring, "docstring");
    }

    /** The task family: arithmetic, strings, lists, conditionals, loops or logic. */
    public String family() {
        return task.family();
    }

    /** Family and operations, e.g. {@code arithmetic:mul+add}: what the held-out split is about. */
    public String composition() {
        return task.family() + ":" + String.join("+", operations);
    }

    /**
     * The completion a perfect policy emits (spec B.1): {@code "```python\n" + reference +
     * "\n```\n"}.
     */
    public String expectedCompletion() {
        return CodeTasks.expectedCompletion(task);
    }
}

package dev.diffustream.policy.tasks;

import java.util.List;
import java.util.Objects;

/**
 * One Python programming task, as every task suite delivers it.
 *
 * @param id stable id inside the suite, e.g. {@code builtin/train/00042} or {@code HumanEval/0}
 * @param prompt the user-turn prompt text, already built by the suite's prompt rules (spec C.4);
 *     the chat template is applied later by the tokenizer
 * @param tests hidden tests, one Python statement each (usually {@code assert ...}), each run in a
 *     fresh interpreter after the candidate code (spec B.2)
 * @param entryPoint name of the function under test, or {@code null} when the suite has none
 * @param setupCode code run before each test (MBPP {@code test_setup_code}), or {@code null}
 * @param referenceSolution a known-good solution body (the code inside the python block), or {@code
 *     null}; used for pretraining and to validate suites, never shown to the policy during RL
 * @param source suite name: {@code builtin}, {@code acecode}, {@code humaneval}, {@code mbpp}, ...
 * @param split which split the task belongs to
 * @param family task family for composition-aware splits (built-in suite), or {@code ""}
 */
public record CodeTask(
        String id,
        String prompt,
        List<String> tests,
        String entryPoint,
        String setupCode,
        String referenceSolution,
        String source,
        TaskSplit split,
        String family) {

    public CodeTask {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(prompt, "prompt of task " + id);
        tests = List.copyOf(Objects.requireNonNull(tests, "tests of task " + id));
        Objects.requireNonNull(source, "source of task " + id);
        Objects.requireNonNull(split, "split of task " + id);
        family = family == null ? "" : family;
    }
}

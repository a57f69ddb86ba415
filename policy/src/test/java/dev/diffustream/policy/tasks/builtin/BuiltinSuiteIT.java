package dev.diffustream.policy.tasks.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.PythonRunner;
import dev.diffustream.policy.tasks.PythonRunner.Result;
import dev.diffustream.policy.tasks.PythonRunner.Script;
import dev.diffustream.policy.tasks.TaskSplit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java evaluator against real Python: every reference solution of the default built-in suite,
 * taken out of its expected completion exactly as the code reward extracts it (spec B.2), passes
 * every one of its tests under {@code /usr/bin/python3}; and the tests are not vacuous.
 */
class BuiltinSuiteIT {

    private static final Pattern BLOCK = Pattern.compile("```python\n(.*?)```", Pattern.DOTALL);

    private static List<BuiltinTask> all;

    @BeforeAll
    static void generate() {
        PythonRunner.requirePython();
        BuiltinSuite suite = new BuiltinSuite();
        all = new ArrayList<>(suite.tasks(TaskSplit.TRAIN));
        all.addAll(suite.tasks(TaskSplit.HELDOUT));
    }

    private static String extractedCode(BuiltinTask t) {
        Matcher m = BLOCK.matcher(t.expectedCompletion());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    @Test
    void shouldPassEveryTestWithEveryReferenceSolutionInPython() {
        // given the code of every expected completion
        List<Script> scripts = new ArrayList<>();
        for (BuiltinTask t : all) {
            CodeTask task = t.task();
            scripts.add(new Script(task.id(), extractedCode(t), null, task.tests()));
        }
        // when python runs each test after its code
        Map<String, Result> results = PythonRunner.runInOneProcess(scripts);
        // then every test of every task passes
        assertThat(results).hasSize(all.size());
        List<String> failures = new ArrayList<>();
        results.values().stream()
                .filter(r -> !r.allPassed())
                .forEach(r -> failures.add(r.id() + " " + r.errors()));
        assertThat(failures).as("tasks whose reference fails").isEmpty();
        int tests = all.stream().mapToInt(t -> t.task().tests().size()).sum();
        assertThat(tests).isGreaterThanOrEqualTo(4 * all.size());
    }

    @Test
    void shouldFailSomeTestOfEveryTaskWithAWrongSolution() {
        // given, for every task, a solution that returns its argument unchanged
        List<Script> scripts = new ArrayList<>();
        for (BuiltinTask t : all) {
            CodeTask task = t.task();
            String param =
                    t.signature()
                            .substring(t.signature().indexOf('(') + 1, t.signature().length() - 1);
            String identity = "def " + t.signature() + ":\n    return " + param + "\n";
            scripts.add(new Script(task.id(), identity, null, task.tests()));
        }
        // when
        Map<String, Result> results = PythonRunner.runInOneProcess(scripts);
        // then no task is solved by the identity (and the harness does report failures)
        assertThat(results.values()).noneMatch(Result::allPassed);
        assertThat(results.values().iterator().next().errors())
                .anyMatch(e -> e != null && e.startsWith("AssertionError"));
    }
}

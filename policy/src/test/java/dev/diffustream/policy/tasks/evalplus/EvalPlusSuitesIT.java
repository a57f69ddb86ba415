package dev.diffustream.policy.tasks.evalplus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.CodeTasks;
import dev.diffustream.policy.tasks.PythonRunner;
import dev.diffustream.policy.tasks.PythonRunner.Result;
import dev.diffustream.policy.tasks.PythonRunner.Script;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TestData;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The loaders on the real HumanEval and MBPP files ({@code data/}, see {@link TestData}): every
 * reference solution, taken out of its expected completion as the code reward extracts it (spec
 * B.2), runs against its tests with {@code /usr/bin/python3} (no isolation; a few interpreters in
 * parallel), the code first, then the setup code, then one test, each test in a fresh namespace.
 */
class EvalPlusSuitesIT {

    private static final Pattern BLOCK = Pattern.compile("```python\n(.*?)```", Pattern.DOTALL);
    private static final int PARALLELISM = Math.max(2, Runtime.getRuntime().availableProcessors());

    @BeforeAll
    static void requirePython() {
        PythonRunner.requirePython();
    }

    private static List<Script> scripts(List<CodeTask> tasks) {
        List<Script> scripts = new ArrayList<>();
        for (CodeTask t : tasks) {
            Matcher m = BLOCK.matcher(CodeTasks.expectedCompletion(t));
            assertThat(m.find()).as(t.id()).isTrue();
            scripts.add(new Script(t.id(), m.group(1), t.setupCode(), t.tests()));
        }
        return scripts;
    }

    private static TreeSet<String> failing(Map<String, Result> results) {
        TreeSet<String> ids = new TreeSet<>();
        results.values().stream().filter(r -> !r.allPassed()).forEach(r -> ids.add(r.id()));
        return ids;
    }

    @Test
    void shouldPassEveryHumanEvalCanonicalSolution() {
        // given
        List<CodeTask> tasks =
                new HumanEvalSuite(TestData.file("HumanEval.jsonl.gz")).load(TaskSplit.TEST);
        assertThat(tasks).hasSize(164);
        assertThat(tasks.get(0).id()).isEqualTo("HumanEval/0");
        assertThat(tasks.get(163).id()).isEqualTo("HumanEval/163");
        assertThat(tasks)
                .allSatisfy(
                        t -> {
                            assertThat(t.tests())
                                    .singleElement()
                                    .satisfies(
                                            s ->
                                                    assertThat(s)
                                                            .contains("def check(")
                                                            .endsWith(
                                                                    "check("
                                                                            + t.entryPoint()
                                                                            + ")"));
                            assertThat(t.prompt())
                                    .startsWith("Please complete the following problem:\n```\n")
                                    .endsWith("```\n");
                            assertThat(t.referenceSolution()).contains("def " + t.entryPoint());
                        });
        // when
        Map<String, Result> results = PythonRunner.runInProcesses(scripts(tasks), PARALLELISM);
        // then
        assertThat(results).hasSize(164);
        assertThat(failing(results)).isEmpty();
    }

    @Test
    void shouldPassEveryMbppReferenceExceptTheThreeBrokenInThisRevision() {
        // given
        List<CodeTask> tasks = new MbppSuite(TestData.file("mbpp.jsonl")).load(TaskSplit.TEST);
        assertThat(tasks).hasSize(974);
        assertThat(tasks.stream().mapToInt(t -> t.tests().size()).sum()).isEqualTo(2922);
        assertThat(tasks)
                .allSatisfy(
                        t -> {
                            assertThat(t.entryPoint()).as(t.id()).isNotNull();
                            assertThat(t.prompt()).contains("\nTest cases: " + t.tests().get(0));
                        });
        // CRLF line ends and tabs are kept as they are in the file
        assertThat(tasks.stream().filter(t -> t.referenceSolution().contains("\r\n")).count())
                .isEqualTo(972);
        assertThat(tasks.stream().filter(t -> t.referenceSolution().contains("\t")).count())
                .isEqualTo(129);
        assertThat(tasks.stream().filter(t -> t.setupCode() != null).map(CodeTask::id).toList())
                .containsExactly("Mbpp/367", "Mbpp/927");
        // when
        Map<String, Result> results = PythonRunner.runInProcesses(scripts(tasks), PARALLELISM);
        // then exactly the three tasks known to be broken in this revision of the file fail
        assertThat(results).hasSize(974);
        assertThat(failing(results)).containsExactly("Mbpp/341", "Mbpp/596", "Mbpp/642");
    }

    @Test
    void shouldPassTheHandWrittenSamplesOfTheUnitTests() throws URISyntaxException {
        Path dir = Path.of(EvalPlusSuitesIT.class.getResource("/tasks/evalplus").toURI());
        List<CodeTask> tasks =
                new ArrayList<>(
                        new HumanEvalSuite(dir.resolve("humaneval-sample.jsonl.gz"))
                                .load(TaskSplit.TEST));
        tasks.addAll(new MbppSuite(dir.resolve("mbpp-sample.jsonl")).load(TaskSplit.TEST));
        Map<String, Result> results = PythonRunner.runInOneProcess(scripts(tasks));
        assertThat(results).hasSize(5);
        assertThat(failing(results)).isEmpty();
        // and a wrong solution fails them
        List<Script> wrong = new ArrayList<>();
        for (CodeTask t : tasks) {
            wrong.add(
                    new Script(
                            t.id(),
                            "def "
                                    + t.entryPoint()
                                    + "(*args):\n    return None\n"
                                    + "class Node:\n    def __init__(self, v):\n        self.kids = []\n",
                            t.setupCode(),
                            t.tests()));
        }
        assertThat(failing(PythonRunner.runInOneProcess(wrong))).hasSize(5);
    }
}

package dev.diffustream.policy.tasks.evalplus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.CodeTasks;
import dev.diffustream.policy.tasks.TaskDataException;
import dev.diffustream.policy.tasks.TaskSplit;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HumanEval and MBPP loaders on small hand-written files of the same shape (no Python). */
class EvalPlusSuitesTest {

    @TempDir Path dir;

    private static Path resource(String name) {
        try {
            return Path.of(EvalPlusSuitesTest.class.getResource("/tasks/evalplus/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void shouldMapHumanEvalRowsToOneCheckTestEach() {
        // given a gzip-compressed HumanEval-style file
        List<CodeTask> tasks =
                new HumanEvalSuite(resource("humaneval-sample.jsonl.gz")).load(TaskSplit.TEST);
        // then
        assertThat(tasks).extracting(CodeTask::id).containsExactly("Sample/0", "Sample/1");
        CodeTask t = tasks.get(0);
        assertThat(t.prompt())
                .isEqualTo(
                        "Please complete the following problem:\n```\ndef double(x: int) -> int:\n"
                                + "    \"\"\" Return x times two.\n    >>> double(2)\n    4\n    \"\"\"\n```\n");
        assertThat(t.tests())
                .containsExactly(
                        "\n\nMETADATA = {'author': 'test'}\n\n\ndef check(candidate):\n"
                                + "    assert candidate(2) == 4\n    for i in range(3):\n"
                                + "        assert candidate(i) == i + i\ncheck(double)");
        assertThat(t.referenceSolution())
                .isEqualTo(
                        "def double(x: int) -> int:\n    \"\"\" Return x times two.\n    >>> double(2)\n"
                                + "    4\n    \"\"\"\n    return 2 * x\n");
        assertThat(t.entryPoint()).isEqualTo("double");
        assertThat(t.setupCode()).isNull();
        assertThat(t.source()).isEqualTo("humaneval");
        assertThat(t.split()).isEqualTo(TaskSplit.TEST);
        // a prompt without a final newline still closes the fence on its own line, and a test
        // without one still puts check(...) on its own line
        CodeTask u = tasks.get(1);
        assertThat(u.prompt())
                .endsWith("using is_even.\"\"\"\n```\n")
                .startsWith(
                        "Please complete the following problem:\n```\nfrom typing import List\n");
        assertThat(u.tests().get(0)).endsWith("[2, 4]\ncheck(evens)");
        assertThat(CodeTasks.expectedCompletion(u))
                .startsWith("```python\nfrom typing import List\n")
                .endsWith("if is_even(x)]\n```\n");
    }

    @Test
    void shouldMapMbppRowsPreservingCodeBytesAndSetup() {
        List<CodeTask> tasks = new MbppSuite(resource("mbpp-sample.jsonl")).load(TaskSplit.TEST);
        assertThat(tasks).extracting(CodeTask::id).containsExactly("Mbpp/7", "Mbpp/8", "Mbpp/9");
        CodeTask add = tasks.get(0);
        // spec C.4: no fenced block, so the first test case follows the text
        assertThat(add.prompt())
                .isEqualTo(
                        "Write a function to add two numbers.\nTest cases: assert add(1, 2) == 3");
        assertThat(add.tests())
                .containsExactly(
                        "assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(-1, 1) == 0");
        assertThat(add.referenceSolution()).isEqualTo("def add(a, b):\r\n\treturn a + b");
        assertThat(add.setupCode()).isNull();
        assertThat(add.entryPoint()).isEqualTo("add");
        CodeTask tree = tasks.get(1);
        assertThat(tree.setupCode()).isEqualTo("root = Node(1)\r\nroot.kids.append(Node(2))");
        // the challenge tests are not part of the task
        assertThat(tree.tests()).hasSize(3).doesNotContain("assert size(root) > 0");
        // the first test calls size(...), defined after a class with an __init__
        assertThat(tree.entryPoint()).isEqualTo("size");
        // helper() is defined first but the test calls is_square()
        assertThat(tasks.get(2).entryPoint()).isEqualTo("is_square");
    }

    @Test
    void shouldFindTheEntryPointCalledByTheFirstTest() {
        assertThat(
                        MbppSuite.entryPoint(
                                "def a(x):\n  return b(x)\ndef b(x):\n  return x",
                                "assert b(1) == a(1)"))
                .isEqualTo("b");
        assertThat(MbppSuite.entryPoint("x = 1", "assert x == 1")).isNull();
    }

    @Test
    void shouldOnlyHaveATestSplit() {
        assertThatThrownBy(() -> new MbppSuite(resource("mbpp-sample.jsonl")).load(TaskSplit.TRAIN))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("only the TEST split");
        assertThatThrownBy(
                        () ->
                                new HumanEvalSuite(resource("humaneval-sample.jsonl.gz"))
                                        .load(TaskSplit.HELDOUT))
                .hasMessageContaining("only the TEST split");
    }

    @Test
    void shouldNameFileAndLineForBadRows() throws IOException {
        Path he = dir.resolve("he.jsonl");
        Files.writeString(
                he,
                "{\"task_id\": \"A/0\", \"prompt\": \"p\", \"canonical_solution\": \"s\", \"test\": \"t\"}\n");
        assertThatThrownBy(() -> new HumanEvalSuite(he).load(TaskSplit.TEST))
                .isInstanceOf(TaskDataException.class)
                .hasMessage(he + ":1: missing field 'entry_point'");
        Path mb = dir.resolve("mb.jsonl");
        Files.writeString(
                mb,
                "{\"text\": \"t\", \"code\": \"c\", \"task_id\": \"x\", \"test_list\": [\"assert 1\"]}\n");
        assertThatThrownBy(() -> new MbppSuite(mb).load(TaskSplit.TEST))
                .hasMessage(mb + ":1: field 'task_id' must be an integer, was STRING");
    }
}

package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.learner.eval.PassAtK;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eval --dump}: one JSON line per sampled completion, with its task's prompt. */
class EvalDumpTest {

    @TempDir Path tmp;

    private static CodeTask task(String id, String prompt) {
        return new CodeTask(
                id,
                prompt,
                List.of("assert f(1) == 2"),
                "f",
                null,
                null,
                "test",
                TaskSplit.HELDOUT,
                "");
    }

    @Test
    void shouldWriteOneLinePerSampleWithItsTaskPromptWhenDumping() throws Exception {
        // given an evaluation of two tasks with two samples each, one of them solved
        List<CodeTask> tasks = List.of(task("t/0", "Return x plus 1."), task("t/1", "Return s."));
        List<PassAtK.Sample> samples =
                List.of(
                        new PassAtK.Sample(
                                "t/0",
                                0,
                                "```python\ndef f(x): return x+1\n```",
                                1.0,
                                1.0,
                                true,
                                "PASSED"),
                        new PassAtK.Sample("t/0", 1, "def f(x)", 0.0, 0.0, false, "NO_CODE"),
                        new PassAtK.Sample(
                                "t/1", 0, "```python\nx\n```", 1.0, 0.25, false, "FAILED"),
                        new PassAtK.Sample(
                                "t/1", 1, "\"quoted\"\nline", 0.5, 0.0, false, "FAILED"));
        PassAtK.Result result =
                new PassAtK.Result(2, 2, Map.of(1, 0.25), 0.5, 1.0, List.of(), samples, 1.0);
        Path file = tmp.resolve("sub/dump.jsonl");

        // when the dump is written (into a directory that does not exist yet)
        EvalCommand.writeDump(file, tasks, result);

        // then each line is one sample, in order, with the prompt of its own task
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(4);
        ObjectMapper m = new ObjectMapper();
        JsonNode first = m.readTree(lines.get(0));
        assertThat(first.get("task_id").asText()).isEqualTo("t/0");
        assertThat(first.get("prompt").asText()).isEqualTo("Return x plus 1.");
        assertThat(first.get("completion").asText())
                .isEqualTo("```python\ndef f(x): return x+1\n```");
        assertThat(first.get("solved").asBoolean()).isTrue();
        JsonNode third = m.readTree(lines.get(2));
        assertThat(third.get("prompt").asText()).isEqualTo("Return s.");
        assertThat(third.get("code_reward").asDouble()).isEqualTo(0.25);
        assertThat(third.get("solved").asBoolean()).isFalse();
        assertThat(third.get("outcome").asText()).isEqualTo("FAILED");
        JsonNode last = m.readTree(lines.get(3));
        assertThat(last.get("sample").asInt()).isEqualTo(1);
        assertThat(last.get("completion").asText()).isEqualTo("\"quoted\"\nline");
        assertThat(last.get("format_reward").asDouble()).isEqualTo(0.5);
    }
}

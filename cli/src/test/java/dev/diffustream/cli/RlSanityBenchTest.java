package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.cli.pipeline.TinyPolicy;
import dev.diffustream.learner.eval.CompletionScorer;
import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rl-sanity loop with a real (tiny, untrained) policy and trainer and an in-memory scorer:
 * which tasks each round takes, one line per round, and that the weights move.
 */
class RlSanityBenchTest {

    @TempDir Path tmp;

    private static final String RECIPE =
            "sampler: {steps: 8, maxNewTokens: 8}\n"
                    + "grpo: {numGenerations: 4, numIterations: 2, maxCompletionLength: 8,"
                    + " learningRate: 1.0e-2, warmupRatio: 0.0, weightDecay: 0.0}\n";

    private static List<CodeTask> tasks(int n) {
        List<CodeTask> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(
                    new CodeTask(
                            "t" + i,
                            "Write f" + i + ".",
                            List.of("assert t" + i),
                            "f" + i,
                            null,
                            null,
                            "test",
                            TaskSplit.TRAIN,
                            ""));
        }
        return out;
    }

    /** Scores by the parity of the completion's length (so groups have variance); logs the task. */
    private static final class RecordingScorer implements CompletionScorer {
        final List<String> tasksSeen = new ArrayList<>();

        @Override
        public List<Score> score(List<Request> requests) {
            tasksSeen.add(requests.get(0).tests().get(0).substring("assert ".length()));
            List<Score> out = new ArrayList<>();
            for (Request q : requests) {
                double v = q.completionText().length() % 2 == 0 ? 1.0 : 0.0;
                out.add(new Score(v, v, v > 0 ? "PASSED" : "FAILED"));
            }
            return out;
        }
    }

    private List<JsonNode> run(boolean rotate, RecordingScorer scorer, Path saveTo)
            throws Exception {
        Recipe r = Recipe.loader().load(RECIPE, "test", Map.of()).value();
        Path start = TinyPolicy.write(tmp.resolve("start"));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (LoadedPolicy policy = LoadedPolicy.load(start, r.policy().device(), true, 0, null);
                PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            RlSanityBench.run(
                    r, policy, tasks(3), scorer, new RlSanityBench.Options(3, 2, rotate, 7), out);
            HfCheckpoint.save(policy.model(), policy.tokenizer(), saveTo);
        }
        ObjectMapper m = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
            lines.add(m.readTree(line));
        }
        return lines;
    }

    @Test
    void shouldTakeTheNextTasksEachRoundWhenRotatingAndTrainEveryRound() throws Exception {
        RecordingScorer scorer = new RecordingScorer();

        List<JsonNode> lines = run(true, scorer, tmp.resolve("after"));

        assertThat(scorer.tasksSeen).containsExactly("t0", "t1", "t2", "t0", "t1", "t2");
        assertThat(lines).hasSize(4);
        for (int round = 0; round < 3; round++) {
            assertThat(lines.get(round).get("round").asInt()).isEqualTo(round);
            assertThat(lines.get(round).get("step").asLong()).isEqualTo(2L * (round + 1));
        }
        assertThat(lines.get(3).get("bench").asText()).isEqualTo("rl-sanity-summary");
        assertThat(HfCheckpoint.sha256(tmp.resolve("after")))
                .isNotEqualTo(HfCheckpoint.sha256(tmp.resolve("start")));
    }

    @Test
    void shouldRepeatTheFirstTasksWithoutRotation() throws Exception {
        RecordingScorer scorer = new RecordingScorer();

        run(false, scorer, tmp.resolve("after"));

        assertThat(scorer.tasksSeen).containsExactly("t0", "t1", "t0", "t1", "t0", "t1");
    }
}

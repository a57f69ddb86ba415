package dev.diffustream.policy.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.model.PolicyModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Smoke test: the bench runs for real on tiny budgets and prints the documented lines. */
class PolicyBenchTest {

    @TempDir Path tmp;

    private static ModelConfig small() {
        return ModelConfig.builder().hiddenSize(32).intermediateSize(64).numHiddenLayers(1).build();
    }

    @Test
    void shouldPrintMatmulModelAndRateLinesWhenRun() throws Exception {
        // given
        PolicyBenchOptions o =
                PolicyBenchOptions.defaults()
                        .withModel(small())
                        .withShape(4, 32)
                        .withRepeats(1, 3)
                        .withMatmulSize(128);

        // when
        List<JsonNode> lines = run(o);

        // then
        assertThat(lines)
                .extracting(l -> l.get("name").asText())
                .containsExactly(
                        "matmul", "model", "forward", "forward_backward", "forward_sampling");
        assertThat(lines).allSatisfy(l -> assertThat(l.get("bench").asText()).isEqualTo("policy"));
        assertThat(lines.get(0).get("gflops").asDouble()).isPositive();
        assertThat(lines.get(1).get("parameters").asLong()).isEqualTo(small().parameterCount());
        JsonNode fwd = lines.get(2);
        assertThat(fwd.get("rows").asInt()).isEqualTo(4);
        assertThat(fwd.get("seqLen").asInt()).isEqualTo(32);
        assertThat(fwd.get("tokensPerSecond").asLong()).isPositive();
        assertThat(fwd.get("fractionOfMatmul").asDouble())
                .isCloseTo(
                        fwd.get("gflops").asDouble() / lines.get(0).get("gflops").asDouble(),
                        org.assertj.core.data.Percentage.withPercentage(10));
        assertThat(lines.get(4).get("rows").asInt()).isEqualTo(8);
        assertThat(lines.get(4).get("secondsPer32Steps").asDouble()).isPositive();
    }

    @Test
    void shouldMeasureACheckpointWhenOneIsGiven() throws Exception {
        // given
        Path dir = tmp.resolve("ckpt");
        try (PolicyModel model =
                PolicyModel.create(small().toBuilder().numHiddenLayers(2).build())) {
            HfCheckpoint.save(model, null, dir);
        }
        PolicyBenchOptions o =
                PolicyBenchOptions.defaults()
                        .withModel(small())
                        .withCheckpoint(dir)
                        .withShape(2, 16)
                        .withRepeats(0, 1)
                        .withMatmulSize(64);

        // when
        List<JsonNode> lines = run(o);

        // then: the checkpoint's sizes, not the fresh config's
        assertThat(lines.get(1).get("layers").asInt()).isEqualTo(2);
    }

    private static List<JsonNode> run(PolicyBenchOptions o) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PolicyBench.run(o, new PrintStream(buf, true, StandardCharsets.UTF_8));
        List<JsonNode> lines = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String l : buf.toString(StandardCharsets.UTF_8).split("\n")) {
            lines.add(json.readTree(l));
        }
        return lines;
    }
}

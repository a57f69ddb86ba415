package dev.diffustream.sandbox.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.sandbox.SandboxConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Smoke test: the benchmark runs for real on a tiny budget and prints its JSON lines. */
class SandboxBenchTest {

    @Test
    void shouldPrintTheRatesAsJsonLines() throws Exception {
        // given
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SandboxConfig config =
                SandboxConfig.defaults().toBuilder().workers(2).uidBase(64160).build();

        // when
        double rate =
                SandboxBench.run(
                        config, 4, true, new PrintStream(bytes, true, StandardCharsets.UTF_8));

        // then
        List<JsonNode> lines = new ArrayList<>();
        for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
            lines.add(new ObjectMapper().readTree(line));
        }
        assertThat(lines)
                .extracting(n -> n.path("mode").asText(n.path("metric").asText()))
                .containsExactly(
                        "isolated", "bare_python", "bwrap_per_test", "isolated_over_bare_python");
        assertThat(lines.get(0).get("tests").asInt()).isEqualTo(20);
        assertThat(lines.get(0).get("isolatedByBwrap").asBoolean()).isTrue();
        assertThat(rate).isPositive();
        assertThat(lines.get(1).get("testsPerSecond").asDouble()).isPositive();
        assertThat(lines.get(3).get("value").asDouble()).isPositive();
    }
}

package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.schemas.config.KafkaConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@link StreamsBench} for real on the test cluster with a tiny budget (STYLE rule 16): every
 * phase completes and prints its JSON line. No timing is asserted. For the full setting run
 * with {@code -Ddiffustream.bench.full=true} (20,000 completions, 200/s for 30 s).
 */
class StreamsBenchIT {

    @TempDir Path tmp;

    @Test
    void shouldPrintRawThroughputLatencyAndSummaryLines() throws Exception {
        // given a tiny budget (or the full one on request)
        TestCluster cluster = TestCluster.shared();
        KafkaConfig kafka = cluster.newKafkaConfig("streams-bench", 4);
        boolean full = Boolean.getBoolean("diffustream.bench.full");
        StreamsBench.Options defaults = StreamsBench.Options.defaults(tmp);
        // Tuning experiments: -Ddiffustream.bench.commitIntervalMs=...,
        // -Ddiffustream.bench.store=in_memory
        AdvantageConfig.Builder adv = defaults.advantages().toBuilder();
        Long commit = Long.getLong("diffustream.bench.commitIntervalMs");
        if (commit != null) {
            adv.commitIntervalMs(commit);
        }
        if ("in_memory".equals(System.getProperty("diffustream.bench.store"))) {
            adv.storeType(AdvantageConfig.StoreType.IN_MEMORY);
        }
        // and any Streams property: -Ddiffustream.bench.streams.producer.batch.size=...
        Map<String, String> streams = new java.util.HashMap<>();
        System.getProperties()
                .forEach(
                        (k, v) -> {
                            String key = k.toString();
                            if (key.startsWith("diffustream.bench.streams.")) {
                                streams.put(
                                        key.substring("diffustream.bench.streams.".length()),
                                        v.toString());
                            }
                        });
        adv.streams(streams);
        defaults =
                new StreamsBench.Options(
                        defaults.completions(),
                        defaults.groupSize(),
                        defaults.tokens(),
                        defaults.iterations(),
                        defaults.latencyRate(),
                        defaults.latencyDuration(),
                        defaults.partitions(),
                        adv.build(),
                        tmp);
        StreamsBench.Options o =
                full
                        ? defaults
                        : new StreamsBench.Options(
                                200,
                                10,
                                32,
                                2,
                                100,
                                Duration.ofSeconds(2),
                                2,
                                defaults.advantages(),
                                tmp);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        // when
        List<Map<String, Object>> results;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            results = StreamsBench.run(kafka, cluster.registry(), o, out);
        }

        // then four JSON lines, one per phase, with their figures
        String printed = bytes.toString(StandardCharsets.UTF_8);
        System.out.println(printed);
        assertThat(printed.lines())
                .hasSize(4)
                .allMatch(l -> l.startsWith("{\"bench\":\"streams\""));
        assertThat(results)
                .extracting(r -> r.get("phase"))
                .containsExactly("raw_ceiling", "throughput", "latency", "summary");
        assertThat((double) results.get(0).get("completions_per_s")).isPositive();
        assertThat(results.get(1).get("completions")).isEqualTo(o.completions());
        assertThat((double) results.get(1).get("completions_per_s")).isPositive();
        // every paced group's latency was measured
        int groups =
                (int) (o.latencyRate() * o.latencyDuration().toMillis() / 1000 / o.groupSize());
        assertThat(results.get(2).get("groups")).isEqualTo(groups);
        assertThat((double) results.get(2).get("p99_ms"))
                .isGreaterThanOrEqualTo((double) results.get(2).get("p50_ms"));
    }
}

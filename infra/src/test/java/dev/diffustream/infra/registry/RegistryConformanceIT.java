package dev.diffustream.infra.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.TopicDef;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.testing.Samples;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Independent conformance: a real Confluent client (the npm package
 * {@code @kafkajs/confluent-schema-registry}, pinned in {@code src/test/js/package.json}) against
 * our registry stand-in, and our serde's bytes against the client's (same wire format).
 */
class RegistryConformanceIT {

    private static final Path JS = Path.of(System.getProperty("basedir", "."), "src", "test", "js");

    @TempDir Path work;

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void shouldInteroperateWithTheConfluentNodeClient() throws Exception {
        // given every event type encoded by our serde on the test cluster's registry
        TestCluster cluster = TestCluster.shared();
        KafkaConfig kafka = cluster.newKafkaConfig("conformance");
        Topics topics = cluster.topics(kafka);
        Map<String, SpecificRecord> samples = new java.util.LinkedHashMap<>();
        for (SpecificRecord sample : Samples.oneOfEach()) {
            TopicDef<?> def =
                    Topics.ALL.stream()
                            .filter(d -> d.valueType() == sample.getClass())
                            .findFirst()
                            .orElseThrow();
            Topic topic = topics.bind(def);
            String name = sample.getSchema().getName();
            Files.write(
                    work.resolve(name + ".java.bin"),
                    topic.valueSerde().serialize(topic.name(), sample));
            samples.put(name, sample);
        }
        Topic<Metric> metrics = topics.metrics();
        String probeSubject = kafka.topicPrefix() + "probe-value";

        // when the node client works against the registry and our payloads
        ensureNodeModules();
        String out =
                run(
                        List.of(
                                "node",
                                "conformance.js",
                                cluster.registryUrl(),
                                work.toString(),
                                metrics.name() + "-value",
                                probeSubject),
                        120);

        // then it registered, encoded, decoded, read latest and got 409 for the incompatible schema
        JsonNode result = new ObjectMapper().readTree(out.lines().reduce((a, b) -> b).orElse("{}"));
        assertThat(result.path("incompatible").path("status").asInt()).isEqualTo(409);
        assertThat(result.path("registered")).hasSize(2);
        assertThat(cluster.registry().latest(probeSubject).id())
                .isEqualTo(result.path("registered").get(1).asInt());
        // and every payload of ours decoded there and re-encoded to the very same bytes
        assertThat(result.path("roundTrips")).hasSize(samples.size());
        for (Map.Entry<String, SpecificRecord> e : samples.entrySet()) {
            String name = e.getKey();
            byte[] ours = Files.readAllBytes(work.resolve(name + ".java.bin"));
            byte[] theirs = Files.readAllBytes(work.resolve(name + ".node.bin"));
            assertThat(theirs).as(name + " re-encoded by the node client").isEqualTo(ours);
            TopicDef<?> def =
                    Topics.ALL.stream()
                            .filter(d -> d.valueType() == e.getValue().getClass())
                            .findFirst()
                            .orElseThrow();
            Topic topic = topics.bind(def);
            assertThat(topic.valueSerde().deserialize(topic.name(), theirs))
                    .isEqualTo(e.getValue());
        }
        // and a record built by the node client decodes with our serde
        Metric own =
                metrics.valueSerde()
                        .deserialize(
                                metrics.name(),
                                Files.readAllBytes(work.resolve("Metric.node-own.bin")));
        assertThat(own.getRunId()).isEqualTo("node-run");
        assertThat(own.getName()).isEqualTo("node/probe");
        assertThat(own.getValue()).isEqualTo(0.25);
        assertThat(own.getStep()).isEqualTo(7L);
        assertThat(own.getPolicyVersion()).isNull();
        assertThat(own.getTags()).containsExactlyEntriesOf(Map.of("from", "node"));
        assertThat(own.getTimestamp()).isEqualTo(Instant.ofEpochMilli(1700000000123L));
    }

    /** {@code npm ci} when the pinned client is not installed yet (or the lock file changed). */
    private static void ensureNodeModules() throws Exception {
        Path installed = JS.resolve("node_modules").resolve(".package-lock.json");
        Path lock = JS.resolve("package-lock.json");
        if (Files.isRegularFile(installed)
                && Files.getLastModifiedTime(installed).compareTo(Files.getLastModifiedTime(lock))
                        >= 0) {
            return;
        }
        run(List.of("npm", "ci", "--no-audit", "--no-fund"), 300);
    }

    private static String run(List<String> command, int timeoutSeconds) throws Exception {
        ProcessBuilder pb =
                new ProcessBuilder(command).directory(JS.toFile()).redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new AssertionError(
                    "cannot run '"
                            + command.get(0)
                            + "': the registry conformance test needs Node.js and npm"
                            + " on the PATH (Node 18 or newer). Install them (e.g. apt-get install nodejs npm). "
                            + e.getMessage(),
                    e);
        }
        p.getOutputStream().close();
        List<String> lines = new ArrayList<>();
        Thread reader =
                new Thread(
                        () -> {
                            try {
                                new String(
                                                p.getInputStream().readAllBytes(),
                                                StandardCharsets.UTF_8)
                                        .lines()
                                        .forEach(lines::add);
                            } catch (IOException e) {
                                lines.add("(cannot read output: " + e + ")");
                            }
                        });
        reader.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(
                    String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
        }
        reader.join();
        String output = String.join("\n", lines);
        assertThat(p.exitValue()).as(String.join(" ", command) + " failed:\n" + output).isZero();
        return output;
    }
}

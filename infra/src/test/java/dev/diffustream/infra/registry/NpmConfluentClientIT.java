package dev.diffustream.infra.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.schemas.Seeds;
import dev.diffustream.schemas.avro.Split;
import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.registry.RestSchemaRegistry;
import dev.diffustream.schemas.registry.SchemaRegistry;
import dev.diffustream.schemas.serde.AvroSerde;
import dev.diffustream.schemas.serde.WireFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our registry stand-in ({@link RegistryServer}), our REST client ({@link RestSchemaRegistry}) and
 * our Confluent wire-format serde ({@link AvroSerde}) against a real third-party Confluent client:
 * the npm package {@code @kafkajs/confluent-schema-registry} (with its Avro library {@code avsc}),
 * pinned in {@code src/test/node/package.json} and driven by {@code confluent-client.js} there.
 *
 * <p>Both directions carry a real event schema ({@link Task}: enum, array, nullable unions, int and
 * 64-bit longs, non-ASCII text): the node client registers and encodes, we decode (fetching the
 * writer schema by id over REST); we register and encode, the node client decodes. Both sides must
 * get the same id for the same schema and the same latest version.
 *
 * <p>The client is installed once with {@code npm ci} into {@code target/npm-conformance/} and
 * reused while the lock file is unchanged. Node.js and npm are required (CI checks for them): a
 * missing {@code node} or {@code npm} fails the test with a message saying so, it is never skipped.
 */
class NpmConfluentClientIT {

    private static final Path MODULE = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final Path SOURCES = MODULE.resolve("src/test/node");
    private static final Path INSTALL = MODULE.resolve("target/npm-conformance");
    private static final String SCRIPT = "confluent-client.js";
    private static final int NPM_TIMEOUT_SECONDS = 300;
    private static final int NODE_TIMEOUT_SECONDS = 60;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Needs every bit of a Java long: plain JS numbers stop at 2^53. */
    private static final long WIDE = 1L << 53;

    @TempDir Path work;

    @BeforeAll
    static void installTheNodeClient() throws IOException {
        Files.createDirectories(INSTALL);
        boolean installed =
                Files.isRegularFile(INSTALL.resolve("node_modules/.package-lock.json"))
                        && sameAsSource("package.json")
                        && sameAsSource("package-lock.json");
        if (!installed) {
            for (String file : List.of("package.json", "package-lock.json")) {
                Files.copy(
                        SOURCES.resolve(file),
                        INSTALL.resolve(file),
                        StandardCopyOption.REPLACE_EXISTING);
            }
            // --ignore-scripts: nothing here needs an install script; never run one we did not read
            run(
                    List.of("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"),
                    NPM_TIMEOUT_SECONDS);
        }
        // node resolves require() next to the script, so it runs from the install directory
        Files.copy(
                SOURCES.resolve(SCRIPT),
                INSTALL.resolve(SCRIPT),
                StandardCopyOption.REPLACE_EXISTING);
    }

    private static boolean sameAsSource(String file) throws IOException {
        Path copy = INSTALL.resolve(file);
        return Files.isRegularFile(copy) && Files.mismatch(copy, SOURCES.resolve(file)) == -1;
    }

    @Test
    void shouldDecodeTheNodeClientsPayloadWithOurSerdeWhenTheNodeClientRegisteredTheSchema()
            throws IOException {
        // given a Task (enum, array, nullable unions, 64-bit longs, non-ASCII) and its subject
        TestCluster cluster = TestCluster.shared();
        String topic = cluster.topics(cluster.newKafkaConfig("npm-client-a")).tasks().name();
        String subject = SchemaRegistry.valueSubject(topic);
        Task sent =
                Task.newBuilder()
                        .setRunId("run-npm")
                        .setTaskId("HumanEval/17")
                        .setPrompt("Return π to 5 digits — naïve «ok» 🚀\n```python\npass\n```")
                        .setTests(List.of("assert f(1) == 2", "assert f('ü') is None"))
                        .setEntryPoint("f")
                        .setSetupCode(null)
                        .setSource("humaneval")
                        .setSplit(Split.HELDOUT)
                        .setEpoch(3)
                        .setSequence(Long.MAX_VALUE - 1)
                        .setSeed(Seeds.derive(20_240_601L, "feeder", 17))
                        .build();
        assertThat(Math.abs(sent.getSeed())).as("seed past 2^53").isGreaterThan(WIDE);
        Path schemaFile = write("task.avsc", Task.getClassSchema().toString());
        Path valuesFile = write("task-values.json", plain(Task.getClassSchema(), sent).toString());

        // when the node client registers our schema text and encodes the values with it
        JsonNode out =
                node(
                        "encode",
                        cluster.registryUrl(),
                        subject,
                        schemaFile.toString(),
                        valuesFile.toString());
        int id = out.path("id").asInt(-1);
        byte[] payload = Base64.getDecoder().decode(out.path("payload").asText());

        // then the payload is Confluent-framed with the id the registry gave the node client
        assertThat(id).as("id from the node client's registration: " + out).isPositive();
        assertThat(payload[0]).as("magic byte").isEqualTo(WireFormat.MAGIC);
        assertThat(ByteBuffer.wrap(payload, 1, 4).getInt()).as("id in the header").isEqualTo(id);
        // and our serde, fetching the writer schema by id over REST, decodes every field
        RestSchemaRegistry registry = new RestSchemaRegistry(cluster.registryUrl());
        AvroSerde<Task> serde = AvroSerde.forValues(Task.class, registry);
        Task got = serde.deserialize(topic, payload);
        assertThat(got.getRunId()).isEqualTo("run-npm");
        assertThat(got.getTaskId()).isEqualTo("HumanEval/17");
        assertThat(got.getPrompt()).isEqualTo(sent.getPrompt());
        assertThat(got.getTests()).containsExactly("assert f(1) == 2", "assert f('ü') is None");
        assertThat(got.getEntryPoint()).isEqualTo("f");
        assertThat(got.getSetupCode()).isNull();
        assertThat(got.getSource()).isEqualTo("humaneval");
        assertThat(got.getSplit()).isEqualTo(Split.HELDOUT);
        assertThat(got.getEpoch()).isEqualTo(3);
        assertThat(got.getSequence()).isEqualTo(Long.MAX_VALUE - 1);
        assertThat(got.getSeed()).isEqualTo(sent.getSeed());
        assertThat(got).isEqualTo(sent);
        // and both clients agree on the registry: one id for the schema, whoever registers it
        assertThat(out.path("againId").asInt()).as("node re-registration").isEqualTo(id);
        assertThat(out.path("lookupId").asInt()).as("node lookup by schema").isEqualTo(id);
        assertThat(out.path("latestId").asInt()).as("node latest").isEqualTo(id);
        assertThat(registry.register(subject, Task.getClassSchema())).isEqualTo(id);
        SchemaRegistry.SchemaVersion latest = registry.latest(subject);
        assertThat(latest.id()).isEqualTo(id);
        assertThat(latest.version()).as("one schema, so one version").isEqualTo(1);
        assertThat(latest.schema()).isEqualTo(Task.getClassSchema());
        // and our serde writes the very same bytes for the same record
        assertThat(serde.serialize(topic, sent)).isEqualTo(payload);
    }

    @Test
    void shouldDecodeOurSerdesPayloadWithTheNodeClientWhenOurSerdeRegisteredTheSchema()
            throws IOException {
        // given a Task encoded by our serde, which registers its schema through our REST client
        TestCluster cluster = TestCluster.shared();
        String topic = cluster.topics(cluster.newKafkaConfig("npm-client-b")).tasks().name();
        String subject = SchemaRegistry.valueSubject(topic);
        RestSchemaRegistry registry = new RestSchemaRegistry(cluster.registryUrl());
        Task sent =
                Task.newBuilder()
                        .setRunId("run-java")
                        .setTaskId("mbpp/train/00411")
                        .setPrompt("Write a function that sums a list — «Σ» ✓")
                        .setTests(List.of())
                        .setEntryPoint(null)
                        .setSetupCode("import math\n")
                        .setSource("mbpp")
                        .setSplit(Split.TRAIN)
                        .setEpoch(0)
                        .setSequence(0L)
                        .setSeed(Seeds.derive(7L, "feeder", 411))
                        .build();
        assertThat(Math.abs(sent.getSeed())).as("seed past 2^53").isGreaterThan(WIDE);
        byte[] payload = AvroSerde.forValues(Task.class, registry).serialize(topic, sent);
        int id = WireFormat.schemaId(payload);
        assertThat(registry.latest(subject).id()).isEqualTo(id);
        Path payloadFile = work.resolve("task.bin");
        Files.write(payloadFile, payload);
        Path schemaFile = write("task.avsc", Task.getClassSchema().toString());

        // when the node client decodes it (fetching the schema by id) and registers the same text
        JsonNode out =
                node(
                        "decode",
                        cluster.registryUrl(),
                        subject,
                        schemaFile.toString(),
                        payloadFile.toString());

        // then it read our header and found our schema under that id
        assertThat(out.path("id").asInt()).as("id in our header, read by node").isEqualTo(id);
        assertThat(out.path("schemaName").asText()).isEqualTo(Task.getClassSchema().getFullName());
        // and decoded every field as we wrote it
        JsonNode value = out.path("value");
        assertThat(value.path("runId").asText()).isEqualTo("run-java");
        assertThat(value.path("taskId").asText()).isEqualTo("mbpp/train/00411");
        assertThat(value.path("prompt").asText()).isEqualTo(sent.getPrompt());
        assertThat(value.path("tests").isArray()).isTrue();
        assertThat(value.path("tests")).isEmpty();
        assertThat(value.path("entryPoint").isNull()).as("entryPoint null: " + value).isTrue();
        assertThat(value.path("setupCode").asText()).isEqualTo("import math\n");
        assertThat(value.path("source").asText()).isEqualTo("mbpp");
        assertThat(value.path("split").asText()).isEqualTo("TRAIN");
        assertThat(value.path("epoch").asInt(-1)).isZero();
        assertThat(value.path("sequence").asText()).isEqualTo("0");
        assertThat(value.path("seed").asText()).isEqualTo(Long.toString(sent.getSeed()));
        assertThat(value).as("all fields").isEqualTo(plain(Task.getClassSchema(), sent));
        // and the node client's registration of the same schema got our id, also as latest
        assertThat(out.path("registeredId").asInt()).as("node registration").isEqualTo(id);
        assertThat(out.path("latestId").asInt()).as("node latest").isEqualTo(id);
        assertThat(registry.latest(subject).version()).as("still one version").isEqualTo(1);
    }

    /**
     * A record as the script takes and prints it: avsc's plain JSON (unions unwrapped, enum symbols
     * as strings, maps as objects) with every long as a decimal string, so 64-bit values survive
     * JSON on both sides.
     */
    private static JsonNode plain(Schema schema, Object value) {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        switch (schema.getType()) {
            case RECORD:
                ObjectNode object = nodes.objectNode();
                for (Schema.Field f : schema.getFields()) {
                    object.set(f.name(), plain(f.schema(), ((IndexedRecord) value).get(f.pos())));
                }
                return object;
            case UNION:
                return value == null
                        ? nodes.nullNode()
                        : plain(
                                schema.getTypes()
                                        .get(SpecificData.get().resolveUnion(schema, value)),
                                value);
            case ARRAY:
                List<JsonNode> items = new ArrayList<>();
                ((Collection<?>) value).forEach(v -> items.add(plain(schema.getElementType(), v)));
                return nodes.arrayNode().addAll(items);
            case MAP:
                ObjectNode map = nodes.objectNode();
                ((Map<?, ?>) value)
                        .forEach((k, v) -> map.set(k.toString(), plain(schema.getValueType(), v)));
                return map;
            case LONG:
                long n = value instanceof Instant t ? t.toEpochMilli() : (Long) value;
                return nodes.textNode(Long.toString(n));
            case NULL:
                return nodes.nullNode();
            case STRING:
            case ENUM:
                return nodes.textNode(value.toString());
            case INT:
                return nodes.numberNode((Integer) value);
            case DOUBLE:
                return nodes.numberNode((Double) value);
            case BOOLEAN:
                return nodes.booleanNode((Boolean) value);
            default:
                throw new IllegalArgumentException(
                        "plain(): Avro type "
                                + schema.getType()
                                + " of "
                                + schema.getFullName()
                                + " is not supported by this test's JSON form");
        }
    }

    private Path write(String name, String text) throws IOException {
        Path file = work.resolve(name);
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }

    /** Runs the script and parses the one JSON line it prints. */
    private static JsonNode node(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("node", SCRIPT));
        command.addAll(List.of(args));
        String output = run(command, NODE_TIMEOUT_SECONDS);
        String last = output.lines().reduce((a, b) -> b).orElse("");
        try {
            return JSON.readTree(last);
        } catch (IOException e) {
            throw new AssertionError(
                    "node " + SCRIPT + " " + args[0] + " printed no JSON result:\n" + output, e);
        }
    }

    /**
     * Runs a command in the install directory with stdout and stderr merged; fails with the
     * command's output on a non-zero exit or a time-out, and with install advice when the program
     * is missing.
     */
    private static String run(List<String> command, int timeoutSeconds) throws IOException {
        String shown = String.join(" ", command);
        ProcessBuilder builder =
                new ProcessBuilder(command).directory(INSTALL.toFile()).redirectErrorStream(true);
        builder.environment().put("npm_config_update_notifier", "false");
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new AssertionError(
                    "cannot run '"
                            + command.get(0)
                            + "' for "
                            + NpmConfluentClientIT.class.getSimpleName()
                            + ": this test needs Node.js (18 or newer) and npm on the PATH. Install"
                            + " them (Debian/Ubuntu: apt-get install -y nodejs npm) and run it"
                            + " again. Cause: "
                            + e.getMessage(),
                    e);
        }
        process.getOutputStream().close();
        StringBuilder output = new StringBuilder();
        Thread reader =
                new Thread(
                        () -> {
                            try {
                                output.append(
                                        new String(
                                                process.getInputStream().readAllBytes(),
                                                StandardCharsets.UTF_8));
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        },
                        "npm-client-output");
        reader.start();
        try {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                reader.join(5_000);
                throw new AssertionError(
                        "'"
                                + shown
                                + "' (in "
                                + INSTALL
                                + ") did not finish within "
                                + timeoutSeconds
                                + " s; output so far:\n"
                                + output);
            }
            reader.join();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running '" + shown + "'", e);
        }
        if (process.exitValue() != 0) {
            throw new AssertionError(
                    "'"
                            + shown
                            + "' (in "
                            + INSTALL
                            + ") exited with "
                            + process.exitValue()
                            + ":\n"
                            + output);
        }
        return output.toString();
    }
}

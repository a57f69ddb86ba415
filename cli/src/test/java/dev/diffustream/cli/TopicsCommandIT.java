package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.cli.MainTest.Result;
import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.serde.AvroJson;
import dev.diffustream.schemas.testing.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopicsCommandIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestCluster cluster;
    private static KafkaConfig kafka;

    @TempDir Path tmp;

    @BeforeAll
    static void topics() {
        cluster = TestCluster.shared();
        kafka = cluster.newKafkaConfig("cli-topics");
    }

    private static String[] args(String... args) {
        return args(kafka, args);
    }

    private static String[] args(KafkaConfig kafka, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(
                List.of(
                        "--bootstrap",
                        kafka.bootstrap(),
                        "--registry",
                        kafka.registry(),
                        "--prefix",
                        kafka.topicPrefix(),
                        "--set",
                        "kafka.partitions=" + kafka.partitions()));
        return all.toArray(String[]::new);
    }

    @Test
    void shouldCreateListProduceAndConsumeATaskGivenAsJson() throws Exception {
        // given the run's topics, created through the command line
        KafkaConfig kafka = cluster.newKafkaConfig("cli-roundtrip");
        Result created = MainTest.run(args(kafka, "topics", "create"));
        assertThat(created.code()).as(created.err()).isZero();
        assertThat(created.out()).contains("created " + Topics.ALL.size() + " topic(s)");

        // and a file with two tasks (one in the strict encoding, one typed by hand) and three bad
        // lines
        Task t1 = Samples.task("cli-1");
        ObjectNode t2 = (ObjectNode) JSON.readTree(AvroJson.toJson(Samples.task("cli-2")));
        t2.put("entryPoint", "solve"); // a bare value for ["null","string"]
        ObjectNode noPrompt = (ObjectNode) JSON.readTree(AvroJson.toJson(Samples.task("cli-3")));
        noPrompt.remove("prompt");
        Path file = tmp.resolve("tasks.jsonl");
        Files.write(
                file,
                List.of(
                        AvroJson.toJson(t1),
                        "{not json",
                        "",
                        noPrompt.toString(),
                        t2.toString(),
                        "{\"taskId\": 5}"));

        // when produced
        Result produced =
                MainTest.run(args(kafka, "topics", "produce", "tasks", "--file", file.toString()));

        // then the good lines are sent and each bad one is reported with its line and field
        assertThat(produced.code()).isEqualTo(1);
        assertThat(produced.out())
                .contains(
                        "sent 2 record(s) to "
                                + kafka.topicPrefix()
                                + "tasks; rejected 3 line(s): [2, 4, 6]");
        assertThat(produced.err()).contains("line 2: malformed JSON at column 2");
        assertThat(produced.err()).contains("line 4: field 'prompt' is missing (string)");
        assertThat(produced.err())
                .containsPattern("line 6: .*field 'taskId': expected string, got a number");

        // when consumed from the beginning
        Result consumed =
                MainTest.run(
                        args(
                                kafka,
                                "topics",
                                "consume",
                                "tasks",
                                "--from-beginning",
                                "--max",
                                "2",
                                "--timeout",
                                "20s"));

        // then the two tasks come back, one JSON line each, in Avro's JSON encoding
        assertThat(consumed.code()).as(consumed.err()).isZero();
        List<String> lines = consumed.out().lines().toList();
        assertThat(lines).hasSize(2);
        List<Task> tasks = lines.stream().map(l -> AvroJson.fromJson(Task.class, l)).toList();
        Task expected2 = Samples.task("cli-2");
        expected2.setEntryPoint("solve");
        assertThat(tasks).containsExactlyInAnyOrder(t1, expected2);
        assertThat(consumed.err()).contains("consumed 2 record(s)");

        // and the listing shows the records and partitions
        Result listed = MainTest.run(args(kafka, "topics", "list"));
        assertThat(listed.out())
                .containsPattern(
                        kafka.topicPrefix().replace(".", "\\.")
                                + "tasks\\s+2\\s+2\\s+taskId\\s+Task\\s+feeder");
    }

    @Test
    void shouldStopAfterTheIdleTimeoutWhenNothingArrives() {
        MainTest.run(args("topics", "create"));
        Result r = MainTest.run(args("topics", "consume", "metrics", "--timeout", "1s"));
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("consumed 0 record(s)");
    }

    @Test
    void shouldSurfaceTheRegistrysReasonWhenTheSchemaIsIncompatible() throws Exception {
        // given a run whose tasks subject holds an older Task without the fields ours requires
        KafkaConfig other = cluster.newKafkaConfig("cli-409");
        cluster.createTopics(other);
        Schema old =
                SchemaBuilder.record("Task")
                        .namespace("dev.diffustream.schemas.avro")
                        .fields()
                        .requiredString("taskId")
                        .endRecord();
        cluster.registry().register(Topics.TASKS.name(other.topicPrefix()) + "-value", old);
        Path file = tmp.resolve("t.jsonl");
        Files.writeString(file, AvroJson.toJson(Samples.task("x")) + "\n");

        // when a task is produced
        Result r =
                MainTest.run(
                        "topics",
                        "produce",
                        "tasks",
                        "--file",
                        file.toString(),
                        "--bootstrap",
                        other.bootstrap(),
                        "--registry",
                        other.registry(),
                        "--prefix",
                        other.topicPrefix());

        // then the registry's 409 reason is the error
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err())
                .contains("HTTP 409")
                .contains("READER_FIELD_MISSING_DEFAULT_VALUE")
                .doesNotContain("\tat ");
    }

    @Test
    void shouldNameTheAddressWhenTheBrokerOrTheRegistryIsUnreachable() throws Exception {
        // given a free port where no broker listens
        int nothing;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            nothing = s.getLocalPort();
        }
        Result broker =
                MainTest.run(
                        "topics", "list", "--bootstrap", "localhost:" + nothing, "--timeout", "2s");
        assertThat(broker.code()).isEqualTo(1);
        assertThat(broker.err().strip())
                .startsWith(
                        "diffustream: Kafka broker unreachable at localhost:"
                                + nothing
                                + " (no answer within 2 s)")
                .contains("--bootstrap");

        // and a registry that is not there, with a working broker
        MainTest.run(args("topics", "create"));
        Path file = tmp.resolve("t.jsonl");
        Files.writeString(file, AvroJson.toJson(Samples.task("y")) + "\n");
        Result registry =
                MainTest.run(
                        "topics",
                        "produce",
                        "tasks",
                        "--file",
                        file.toString(),
                        "--bootstrap",
                        kafka.bootstrap(),
                        "--registry",
                        "http://localhost:" + nothing,
                        "--prefix",
                        kafka.topicPrefix());
        assertThat(registry.code()).isEqualTo(1);
        assertThat(registry.err())
                .contains("schema registry unreachable at http://localhost:" + nothing)
                .contains("--registry");

        // and a topic that was never created
        Result missing =
                MainTest.run(
                        "topics",
                        "consume",
                        "tasks",
                        "--bootstrap",
                        kafka.bootstrap(),
                        "--prefix",
                        "never-created.",
                        "--timeout",
                        "5s");
        assertThat(missing.err())
                .contains("topic 'never-created.tasks' does not exist on " + kafka.bootstrap());
    }
}

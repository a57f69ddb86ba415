package dev.diffustream.infra.dashboard;

import static dev.diffustream.infra.dashboard.Events.RUN;
import static dev.diffustream.infra.dashboard.Events.group;
import static dev.diffustream.infra.dashboard.Events.metric;
import static dev.diffustream.infra.dashboard.Events.ref;
import static dev.diffustream.infra.dashboard.Events.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.avro.TrainStep;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.testing.Samples;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The dashboard on the real broker, checked in headless Chromium: a known set of events goes into a
 * fresh run's topics, the dashboard follows them, and the figures the browser renders must be the
 * ones the events carry. Saves {@code target/dashboard-screenshot.png}.
 */
class DashboardIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Path TARGET =
            Path.of(System.getProperty("basedir", ".")).resolve("target");

    private final TestCluster cluster = TestCluster.shared();
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    /** What was produced, to compare the page with. */
    private static final class Produced {
        final Map<String, Integer> records = new HashMap<>();
        final Map<TopicPartition, Long> taskEnds = new HashMap<>();
        final Map<TopicPartition, Long> advantageEnds = new HashMap<>();
        final EnumMap<Outcome, Integer> outcomes = new EnumMap<>(Outcome.class);
        final List<TrainStep> steps = new ArrayList<>();
        final List<Metric> passAt1 = new ArrayList<>();
        long newestVersion;
        int completions;
    }

    @Test
    void shouldShowTheFiguresOfTheTopicsWhenARunIsFollowedInABrowser() throws Exception {
        Chromium chromium = Chromium.find(TARGET.resolve("dashboard-it"));

        // given a run's events on a fresh prefix, with consumer groups that committed offsets
        KafkaConfig kafka = cluster.newKafkaConfig("dashboard-it");
        cluster.createTopics(kafka);
        Topics topics = cluster.topics(kafka);
        Produced produced = produce(kafka, topics);
        String streamsApp = kafka.topicPrefix() + "advantages-" + RUN;
        // actors committed everything on partition 0 of tasks, nothing on partition 1
        TopicPartition tasks0 = new TopicPartition(topics.tasks().name(), 0);
        TopicPartition tasks1 = new TopicPartition(topics.tasks().name(), 1);
        commit("actors-" + RUN, Map.of(tasks0, produced.taskEnds.getOrDefault(tasks0, 0L)));
        // the learner has read every advantages record
        Map<TopicPartition, Long> learnerOffsets = new HashMap<>(produced.advantageEnds);
        commit("learner-" + RUN, learnerOffsets);
        long expectedActorLag = produced.taskEnds.getOrDefault(tasks1, 0L);
        // the throughput window ends a second after the last record, however slow this machine
        long now = System.currentTimeMillis() + 1_000;

        // when the dashboard follows the run
        try (Dashboard dashboard =
                Dashboard.builder()
                        .kafka(kafka)
                        .runId(RUN)
                        .registry(cluster.registry())
                        .lagInterval(Duration.ofMillis(500))
                        .clock(() -> now)
                        .watch(new WatchedGroup("actors", "actors-" + RUN, List.of("tasks")))
                        .watch(
                                new WatchedGroup(
                                        "sandboxes", "sandboxes-" + RUN, List.of("completions")))
                        .watch(
                                new WatchedGroup(
                                        "streams",
                                        streamsApp,
                                        List.of("completions", "executions")))
                        .watch(new WatchedGroup("learner", "learner-" + RUN, List.of("advantages")))
                        .build()
                        .start()) {
            DashboardState state =
                    await(
                            dashboard,
                            s ->
                                    s.consumer().caughtUp()
                                            && s.consumer()
                                                    .records()
                                                    .equals(toLong(produced.records))
                                            && s.lag().rows().size() == 5
                                            && lag(s, "actors", "tasks") == expectedActorLag);

            // then the API serves the state as JSON, with a policy that allows nothing remote
            HttpResponse<String> api = get(dashboard.url().resolve("api/state"));
            assertThat(api.statusCode()).isEqualTo(200);
            assertThat(api.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
            assertThat(api.headers().firstValue("Content-Security-Policy"))
                    .hasValue(Dashboard.CONTENT_SECURITY_POLICY);
            JsonNode tree = json.readTree(api.body());
            assertThat(tree.at("/policy/version").asLong()).isEqualTo(produced.newestVersion);
            assertThat(get(dashboard.url().resolve("nope")).statusCode()).isEqualTo(404);
            assertThat(
                            http.send(
                                            HttpRequest.newBuilder(dashboard.url())
                                                    .POST(HttpRequest.BodyPublishers.noBody())
                                                    .build(),
                                            HttpResponse.BodyHandlers.discarding())
                                    .statusCode())
                    .isEqualTo(405);
            // and the aborted transaction (checkpoint v9, step 99) is not part of the state
            assertThat(state.policy().checkpoints()).isEqualTo(3);
            assertThat(state.learner().trainSteps()).isEqualTo(4);

            // when the page is rendered by headless Chromium
            String dom = chromium.dumpDom(dashboard.url(), 6_000);
            Files.writeString(TARGET.resolve("dashboard-it").resolve("dom.html"), dom);

            // then the headline figures are the topics' figures
            TrainStep newest = produced.steps.get(produced.steps.size() - 1);
            Metric pass = produced.passAt1.get(produced.passAt1.size() - 1);
            assertThat(text(dom, "run-id")).isEqualTo(RUN);
            assertThat(text(dom, "status")).isEqualTo("live");
            assertThat(integer(dom, "policy-version")).isEqualTo(produced.newestVersion);
            assertThat(integer(dom, "learner-step")).isEqualTo((long) newest.getStep());
            assertThat(number(dom, "reward-mean")).isCloseTo(newest.getRewardMean(), within(1e-3));
            assertThat(number(dom, "reward-std")).isCloseTo(newest.getRewardStd(), within(1e-3));
            assertThat(number(dom, "pass-at-1")).isCloseTo(pass.getValue(), within(1e-3));
            assertThat(integer(dom, "pass-at-1-step")).isEqualTo((long) pass.getStep());
            assertThat(integer(dom, "pass-at-1-version")).isEqualTo((long) pass.getPolicyVersion());
            // sandbox outcomes: every outcome's count, the undecodable and other-run records
            // not among them
            for (Outcome o : Outcome.values()) {
                if (o != Outcome.UNKNOWN) {
                    assertThat(integer(dom, "outcome-" + o))
                            .as(o.name())
                            .isEqualTo((long) produced.outcomes.getOrDefault(o, 0));
                }
            }
            assertThat(integer(dom, "outcomes-total"))
                    .isEqualTo(produced.outcomes.values().stream().mapToLong(i -> i).sum());
            // staleness: A (v0,v0,v1,v1) and B (v1 x4) from v1, C's 3 least stale of
            // (v0,v1,v2,v2) from v2 -> eight members at 0, three at 1, one dropped by the bound
            assertThat(integer(dom, "staleness-bucket-0")).isEqualTo(8L);
            assertThat(integer(dom, "staleness-bucket-1")).isEqualTo(3L);
            assertThat(integer(dom, "staleness-members")).isEqualTo(11L);
            assertThat(integer(dom, "staleness-dropped")).isEqualTo(1L);
            assertThat(attr(dom, "staleness-histogram", "data-buckets")).isEqualTo("2");
            // groups and dead letters
            assertThat(integer(dom, "groups-total")).isEqualTo(4L);
            assertThat(integer(dom, "groups-trainable")).isEqualTo(3L);
            assertThat(integer(dom, "groups-dropped")).isEqualTo(1L);
            assertThat(integer(dom, "dead-letters"))
                    .isEqualTo((long) produced.records.get("dead-letters"));
            // throughput: everything was produced within the minute before the (pinned) clock
            for (String stage : RunModel.STAGES) {
                assertThat(integer(dom, "throughput-count-" + stage))
                        .as(stage)
                        .isEqualTo((long) produced.records.get(stage));
                assertThat(number(dom, "throughput-" + stage))
                        .as(stage)
                        .isCloseTo(produced.records.get(stage) / 60.0, within(1e-3));
            }
            // lag: actors miss partition 1 of tasks, the learner is caught up, the sandboxes and
            // the streams application have committed nothing
            assertThat(integer(dom, "lag-actors-tasks")).isEqualTo(expectedActorLag);
            assertThat(integer(dom, "lag-learner-advantages")).isZero();
            assertThat(integer(dom, "lag-sandboxes-completions"))
                    .isEqualTo((long) produced.completions);
            assertThat(integer(dom, "lag-streams-executions"))
                    .isEqualTo((long) produced.records.get("executions"));
            // per-step plots: one point per step; the pass@1 curve one per evaluation
            for (String plot :
                    List.of("plot-loss", "plot-kl", "plot-clip", "plot-grad-norm", "plot-reward")) {
                assertThat(attr(dom, plot, "data-points"))
                        .as(plot)
                        .isEqualTo(String.valueOf(produced.steps.size()));
            }
            assertThat(attr(dom, "plot-pass-at-1", "data-points"))
                    .isEqualTo(String.valueOf(produced.passAt1.size()));
            assertThat(dom).contains("<polyline");
            // footer: the poison record and the other run's records are counted apart
            assertThat(integer(dom, "records-undecodable")).isEqualTo(1L);
            assertThat(integer(dom, "records-other-runs")).isEqualTo(2L);

            // and a screenshot is saved as the test's artifact
            Path png = TARGET.resolve("dashboard-screenshot.png");
            chromium.screenshot(dashboard.url(), 6_000, png);
            byte[] bytes = Files.readAllBytes(png);
            assertThat(bytes.length).isGreaterThan(20_000);
            assertThat(new String(bytes, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
        }
    }

    @Test
    void shouldWaitForTheRunWhenItsTopicsDoNotExistYet() throws Exception {
        Chromium chromium = Chromium.find(TARGET.resolve("dashboard-it-empty"));

        // given a prefix without topics
        KafkaConfig kafka = cluster.newKafkaConfig("dashboard-empty-it");
        try (Dashboard dashboard =
                Dashboard.builder()
                        .kafka(kafka)
                        .runId(RUN)
                        .registry(cluster.registry())
                        .lagInterval(Duration.ofMillis(500))
                        .watch(new WatchedGroup("learner", "learner-" + RUN, List.of("advantages")))
                        .build()
                        .start()) {
            await(
                    dashboard,
                    s ->
                            s.consumer().missingTopics().size() == Topics.ALL.size()
                                    && s.lag().updatedAt() != null);

            // when the page is rendered before the run exists
            String dom = chromium.dumpDom(dashboard.url(), 3_000);

            // then it says so and shows no figure
            assertThat(text(dom, "status")).isEqualTo("waiting for the run's topics");
            assertThat(text(dom, "policy-version")).isEqualTo("—");
            assertThat(text(dom, "learner-step")).isEqualTo("—");
            assertThat(text(dom, "pass-at-1")).isEqualTo("—");
            assertThat(dom).contains("no trained members yet", "waiting for the first train step");
            assertThat(text(dom, "lag-learner-advantages")).isEqualTo("0");
            assertThat(dom).contains("topic missing");
            // and no topic was created by looking
            assertThat(cluster.admin().listTopics().names().get(10, TimeUnit.SECONDS))
                    .noneMatch(n -> n.startsWith(kafka.topicPrefix()));

            // when the run's topics appear and its first checkpoint is published
            cluster.createTopics(kafka);
            Topics topics = cluster.topics(kafka);
            send(kafka, topics.checkpoints(), RUN, Samples.checkpoint(0));

            // then the dashboard picks them up
            DashboardState s =
                    await(dashboard, x -> x.policy().version() != null && x.consumer().caughtUp());
            assertThat(s.policy().version()).isZero();
            assertThat(s.consumer().missingTopics()).isEmpty();
        }
    }

    // ---------------------------------------------------------------------------------------

    private Produced produce(KafkaConfig kafka, Topics topics) throws Exception {
        Produced p = new Produced();
        try (KafkaProducer<byte[], byte[]> producer = cluster.producer(kafka)) {
            for (int i = 0; i < 6; i++) {
                RecordMetadata m =
                        send(producer, topics.tasks(), "t" + i, Samples.task("builtin/train/" + i));
                p.taskEnds.merge(new TopicPartition(m.topic(), m.partition()), 1L, Long::sum);
            }
            p.records.put("tasks", 6);
            List<Completion> completions = new ArrayList<>();
            for (int m = 0; m < 4; m++) {
                Completion c = Samples.completion(RUN + "/0000001", m, 4, 16, 2);
                completions.add(c);
                send(producer, topics.completions(), c.getGroupId(), c);
            }
            p.completions = completions.size();
            p.records.put("completions", completions.size());

            Map<Outcome, Integer> outcomes =
                    Map.of(
                            Outcome.PASSED, 5,
                            Outcome.FAILED, 3,
                            Outcome.PARTIAL, 2,
                            Outcome.TIMEOUT, 1,
                            Outcome.SANDBOX_ERROR, 1);
            int executions = 0;
            for (Map.Entry<Outcome, Integer> e : outcomes.entrySet()) {
                for (int i = 0; i < e.getValue(); i++) {
                    Completion c = completions.get(i % completions.size());
                    send(
                            producer,
                            topics.executions(),
                            c.getGroupId(),
                            Samples.execution(c, e.getKey(), e.getKey() == Outcome.PASSED ? 2 : 1));
                    executions++;
                }
                p.outcomes.put(e.getKey(), e.getValue());
            }
            // a poison record and another run's execution: read, but not counted as outcomes
            producer.send(
                            new ProducerRecord<>(
                                    topics.executions().name(),
                                    "poison".getBytes(StandardCharsets.UTF_8),
                                    new byte[] {1, 2, 3}))
                    .get(30, TimeUnit.SECONDS);
            send(
                    producer,
                    topics.executions(),
                    "x",
                    Execution.newBuilder(Samples.execution(completions.get(0), Outcome.PASSED, 2))
                            .setRunId("other-run")
                            .build());
            p.records.put("executions", executions + 2);

            // four closed groups: three trainable, one dropped for zero variance
            List<RecordMetadata> at = new ArrayList<>();
            AdvantageGroup[] groups = {
                group("A", null, 0, 0, 1, 1),
                group("B", null, 1, 1, 1, 1),
                group("C", null, 0, 1, 2, 2),
                group("D", "zero_variance", 2, 2, 2, 2)
            };
            for (AdvantageGroup g : groups) {
                RecordMetadata m = send(producer, topics.advantages(), g.getGroupId(), g);
                at.add(m);
                p.advantageEnds.merge(
                        new TopicPartition(m.topic(), m.partition()), m.offset() + 1, Math::max);
            }
            p.records.put("advantages", groups.length);

            // the learner's log, in transactions like the learner's: two batches of two steps
            List<GroupRef> batch1 =
                    List.of(
                            ref("A", at.get(0).partition(), at.get(0).offset(), 4, 0),
                            ref("B", at.get(1).partition(), at.get(1).offset(), 4, 0));
            List<GroupRef> batch2 =
                    List.of(ref("C", at.get(2).partition(), at.get(2).offset(), 3, 1));
            List<GroupRef> skipped =
                    List.of(ref("D", at.get(3).partition(), at.get(3).offset(), 0, 0));
            p.steps.add(step(1, 1, 0, 1, batch1, List.of()));
            p.steps.add(step(2, 1, 1, 1, batch1, List.of()));
            p.steps.add(step(3, 2, 0, 2, batch2, skipped));
            p.steps.add(step(4, 2, 1, 2, batch2, List.of()));
            learnerLog(kafka, topics, p);
            p.records.put("checkpoints", 3);
            p.records.put("train-steps", p.steps.size());

            // metrics: two evaluations, a learner metric, another run's evaluation
            p.passAt1.add(metric(RUN, RunModel.PASS_AT_1, 0.25, 2L, 1L));
            p.passAt1.add(metric(RUN, RunModel.PASS_AT_1, 0.375, 4L, 2L));
            List<Metric> metrics = new ArrayList<>(p.passAt1);
            metrics.add(metric(RUN, "losses/total", 0.25, 4L, 2L));
            metrics.add(metric("other-run", RunModel.PASS_AT_1, 0.99, 6L, 3L));
            for (Metric m : metrics) {
                send(producer, topics.metrics(), m.getSource(), m);
            }
            p.records.put("metrics", metrics.size());

            send(producer, topics.deadLetters(), "g1", Samples.deadLetter());
            send(producer, topics.deadLetters(), "g2", Samples.deadLetter());
            p.records.put("dead-letters", 2);
        }
        return p;
    }

    /** Checkpoints and steps committed in a transaction, then an aborted one. */
    private void learnerLog(KafkaConfig kafka, Topics topics, Produced p) {
        Map<String, Object> props =
                Clients.transactionalProducer(
                        kafka,
                        "dashboard-it-learner",
                        kafka.topicPrefix() + "dashboard-it-learner");
        try (KafkaProducer<byte[], byte[]> tx = new KafkaProducer<>(props)) {
            tx.initTransactions();
            tx.beginTransaction();
            for (long v = 0; v <= 2; v++) {
                Checkpoint c = Checkpoint.newBuilder(Samples.checkpoint(v)).setStep(2 * v).build();
                tx.send(record(topics.checkpoints(), RUN, c));
                p.newestVersion = v;
            }
            for (TrainStep s : p.steps) {
                tx.send(record(topics.trainSteps(), RUN, s));
            }
            tx.commitTransaction();
            tx.beginTransaction();
            tx.send(record(topics.checkpoints(), RUN, Samples.checkpoint(9)));
            tx.send(record(topics.trainSteps(), RUN, step(99, 50, 0, 9, List.of(), List.of())));
            tx.flush();
            tx.abortTransaction();
        }
    }

    private static <V extends SpecificRecord> ProducerRecord<byte[], byte[]> record(
            Topic<V> topic, String key, V value) {
        return new ProducerRecord<>(
                topic.name(),
                key.getBytes(StandardCharsets.UTF_8),
                topic.valueSerde().serialize(topic.name(), value));
    }

    private static <V extends SpecificRecord> RecordMetadata send(
            KafkaProducer<byte[], byte[]> producer, Topic<V> topic, String key, V value)
            throws Exception {
        return producer.send(record(topic, key, value)).get(30, TimeUnit.SECONDS);
    }

    private <V extends SpecificRecord> void send(
            KafkaConfig kafka, Topic<V> topic, String key, V value) {
        cluster.produce(kafka, List.of(record(topic, key, value)));
    }

    private void commit(String groupId, Map<TopicPartition, Long> offsets) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> o = new HashMap<>();
        offsets.forEach((tp, off) -> o.put(tp, new OffsetAndMetadata(off)));
        cluster.admin().alterConsumerGroupOffsets(groupId, o).all().get(30, TimeUnit.SECONDS);
    }

    private static Map<String, Long> toLong(Map<String, Integer> m) {
        Map<String, Long> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, (long) v));
        return out;
    }

    private static long lag(DashboardState s, String label, String topic) {
        return s.lag().rows().stream()
                .filter(r -> r.label().equals(label) && r.topic().equals(topic))
                .mapToLong(DashboardState.LagRow::lag)
                .findFirst()
                .orElse(-1);
    }

    private static DashboardState await(Dashboard d, Predicate<DashboardState> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        DashboardState s = d.state();
        while (!done.test(s)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "the dashboard did not reach the expected state within "
                                + WAIT
                                + "; last state: consumer="
                                + s.consumer()
                                + ", lag="
                                + s.lag());
            }
            Thread.sleep(200);
            s = d.state();
        }
        return s;
    }

    private HttpResponse<String> get(URI uri) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The text of the element with id {@code id} in a dumped DOM. */
    static String text(String dom, String id) {
        Matcher m =
                Pattern.compile("<[a-zA-Z]+[^>]*\\sid=\"" + Pattern.quote(id) + "\"[^>]*>([^<]*)<")
                        .matcher(dom);
        if (!m.find()) {
            throw new AssertionError("no element with id '" + id + "' in the rendered page");
        }
        return m.group(1)
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .strip();
    }

    /** The element's text as a number. */
    static double number(String dom, String id) {
        String t = text(dom, id);
        try {
            return Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw new AssertionError("element '" + id + "' shows '" + t + "', not a number");
        }
    }

    /** The element's text as a whole number. */
    static long integer(String dom, String id) {
        String t = text(dom, id);
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new AssertionError("element '" + id + "' shows '" + t + "', not a whole number");
        }
    }

    /** An attribute of the element with id {@code id}. */
    static String attr(String dom, String id, String name) {
        Matcher tag =
                Pattern.compile("<[a-zA-Z]+[^>]*\\sid=\"" + Pattern.quote(id) + "\"[^>]*>")
                        .matcher(dom);
        if (!tag.find()) {
            throw new AssertionError("no element with id '" + id + "' in the rendered page");
        }
        Matcher a =
                Pattern.compile("\\s" + Pattern.quote(name) + "=\"([^\"]*)\"").matcher(tag.group());
        if (!a.find()) {
            throw new AssertionError("element '" + id + "' has no attribute " + name);
        }
        return a.group(1);
    }
}

package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.DeadLetter;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.GroupClose;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.testing.Samples;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The advantage service on a real broker with exactly_once_v2: a SIGKILLed instance restarted
 * mid-stream emits every group exactly once with the right advantages; a clean restart keeps the
 * stores; a poison record reaches dead-letters inside the transaction.
 */
class AdvantageServiceIT {

    private static final int G = 4;
    private static final RewardWeights WEIGHTS = RewardWeights.defaults();

    @TempDir Path tmp;
    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void killChildren() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Tests passed per member: (g + m) mod 3 gives every group three distinct rewards. */
    private static int passes(int g, int m) {
        return (g + m) % 3;
    }

    /** Spec A.8 leave-one-out over the rewards of {@link #passes}, computed here independently. */
    private static double[] expectedAdvantages(int g) {
        double[] r = new double[G];
        double sum = 0;
        for (int m = 0; m < G; m++) {
            // 2.0 · code (passed/2) + 0.5 · format (1)
            r[m] = 2.0 * passes(g, m) / 2.0 + 0.5;
            sum += r[m];
        }
        double[] a = new double[G];
        for (int m = 0; m < G; m++) {
            a[m] = r[m] - (sum - r[m]) / (G - 1);
        }
        return a;
    }

    private static List<ProducerRecord<byte[], byte[]>> groupRecords(
            Topics topics, String id, int g) {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        byte[] key = id.getBytes(StandardCharsets.UTF_8);
        List<Completion> cs = new ArrayList<>();
        for (int m = 0; m < G; m++) {
            Completion c = Samples.completion(id, m, G, 64, 2);
            cs.add(c);
            out.add(
                    new ProducerRecord<>(
                            topics.completions().name(),
                            key,
                            topics.completions()
                                    .valueSerde()
                                    .serialize(topics.completions().name(), c)));
        }
        for (int m = 0; m < G; m++) {
            int p = passes(g, m);
            Execution e =
                    Samples.execution(
                            cs.get(m),
                            p == 2 ? Outcome.PASSED : p == 1 ? Outcome.PARTIAL : Outcome.FAILED,
                            p);
            out.add(
                    new ProducerRecord<>(
                            topics.executions().name(),
                            key,
                            topics.executions()
                                    .valueSerde()
                                    .serialize(topics.executions().name(), e)));
        }
        return out;
    }

    private Process startChild(KafkaConfig kafka, String appId, Path stateDir, String name)
            throws Exception {
        String classpath =
                System.getProperty(
                        "surefire.test.class.path", System.getProperty("java.class.path"));
        Path log = Path.of("target", "it-logs", appId + "-" + name + ".log");
        Files.createDirectories(log.getParent());
        ProcessBuilder pb =
                new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx384m",
                        "-cp",
                        classpath,
                        AdvantageServiceProcess.class.getName(),
                        kafka.bootstrap(),
                        kafka.registry(),
                        kafka.topicPrefix(),
                        appId,
                        stateDir.toString());
        pb.redirectErrorStream(true);
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        children.add(p);
        return p;
    }

    private static Map<String, List<AdvantageGroup>> byGroup(
            Topics topics, List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, List<AdvantageGroup>> out = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            AdvantageGroup g = topics.advantages().valueSerde().deserialize(r.topic(), r.value());
            out.computeIfAbsent(g.getGroupId(), k -> new ArrayList<>()).add(g);
        }
        return out;
    }

    /**
     * Reads a topic from the beginning with read_committed until {@code expected} records arrived,
     * then on for {@code settle} more, so duplicates beyond the expected count would be seen.
     */
    private static List<ConsumerRecord<byte[], byte[]>> readSettled(
            KafkaConfig kafka, String topic, int expected, Duration timeout, Duration settle) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(Clients.consumer(kafka, "it-reader", null))) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                parts.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(out::add);
            }
            long settled = System.nanoTime() + settle.toNanos();
            while (System.nanoTime() < settled) {
                consumer.poll(Duration.ofMillis(100)).forEach(out::add);
            }
        }
        return out;
    }

    @Test
    void shouldEmitEveryGroupExactlyOnceWhenTheInstanceIsKilledMidStream() throws Exception {
        // given fresh topics, and the service in a child JVM
        TestCluster cluster = TestCluster.shared();
        KafkaConfig kafka = cluster.newKafkaConfig("streams-kill", 2);
        cluster.createTopics(kafka);
        Topics topics = cluster.topics(kafka);
        String appId = kafka.topicPrefix().replace(".", "") + "-app";
        Path stateDir = tmp.resolve("state");
        Process first = startChild(kafka, appId, stateDir, "first");

        // and 240 groups produced at a steady pace from a background thread
        int groups = 240;
        Thread producer =
                new Thread(
                        () -> {
                            try (KafkaProducer<byte[], byte[]> p = cluster.producer(kafka)) {
                                for (int g = 0; g < groups; g++) {
                                    for (ProducerRecord<byte[], byte[]> r :
                                            groupRecords(topics, "kill-" + g, g)) {
                                        p.send(r);
                                    }
                                    p.flush();
                                    Thread.sleep(25);
                                }
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "it-producer");
        producer.start();

        // when a third of the groups is visible, the instance is killed with SIGKILL
        String advantages = topics.advantages().name();
        List<ConsumerRecord<byte[], byte[]>> seen =
                cluster.consume(kafka, advantages, groups / 3, Duration.ofSeconds(90));
        assertThat(seen).hasSizeGreaterThanOrEqualTo(groups / 3);
        first.destroyForcibly();
        assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isEqualTo(137);
        int beforeKill = seen.size();

        // and a new instance takes over the same application id and state dir
        startChild(kafka, appId, stateDir, "second");
        producer.join();

        // then every group is visible to read_committed consumers exactly once (read on for a
        // while after the last one to catch late duplicates)
        List<ConsumerRecord<byte[], byte[]>> all =
                readSettled(
                        kafka, advantages, groups, Duration.ofSeconds(120), Duration.ofSeconds(5));
        Map<String, List<AdvantageGroup>> byGroup = byGroup(topics, all);
        assertThat(beforeKill).isLessThan(groups);
        assertThat(byGroup).hasSize(groups);
        assertThat(all).hasSize(groups);
        // with the right advantages and payloads
        for (int g = 0; g < groups; g++) {
            String id = "kill-" + g;
            AdvantageGroup out = byGroup.get(id).get(0);
            assertThat(out.getCloseReason()).isEqualTo(GroupClose.COMPLETE);
            assertThat(out.getDropReason()).isNull();
            assertThat(out.getMembers()).hasSize(G);
            double[] expected = expectedAdvantages(g);
            for (int m = 0; m < G; m++) {
                AdvantageMember member = out.getMembers().get(m);
                assertThat(member.getAdvantage()).isCloseTo(expected[m], within(1e-12));
                assertThat(member.getTokenIds())
                        .isEqualTo(Samples.completion(id, m, G, 64, 2).getTokenIds());
            }
        }
    }

    @Test
    void shouldResumeOpenGroupsAfterCleanRestartAndParkPoisonRecords() throws Exception {
        // given fresh topics and a running service
        TestCluster cluster = TestCluster.shared();
        KafkaConfig kafka = cluster.newKafkaConfig("streams-restart", 2);
        cluster.createTopics(kafka);
        Topics topics = cluster.topics(kafka);
        String appId = kafka.topicPrefix().replace(".", "") + "-app";
        AdvantageConfig cfg =
                AdvantageServiceProcess.childConfig(appId, tmp.resolve("state").toString());
        List<ProducerRecord<byte[], byte[]>> records = groupRecords(topics, "restart-1", 1);
        byte[] poison = "definitely not avro".getBytes(StandardCharsets.UTF_8);
        Instant beforeFirstRecord;
        try (AdvantageService service = new AdvantageService(cfg, WEIGHTS, kafka, topics)) {
            service.start();
            assertThat(service.awaitRunning(Duration.ofSeconds(60))).isTrue();

            // when the group's completions, half its executions and then a poison record arrive
            beforeFirstRecord = Instant.now();
            List<ProducerRecord<byte[], byte[]>> firstHalf =
                    new ArrayList<>(records.subList(0, G + 2));
            firstHalf.add(
                    new ProducerRecord<>(
                            topics.completions().name(),
                            "restart-1".getBytes(StandardCharsets.UTF_8),
                            poison));
            cluster.produce(kafka, firstHalf);

            // then the poison record is parked, committed with the transaction (read_committed)
            List<ConsumerRecord<byte[], byte[]>> letters =
                    cluster.consume(kafka, topics.deadLetters().name(), 1, Duration.ofSeconds(60));
            assertThat(letters).hasSize(1);
            DeadLetter letter =
                    topics.deadLetters()
                            .valueSerde()
                            .deserialize(letters.get(0).topic(), letters.get(0).value());
            assertThat(letter.getValue().array()).isEqualTo(poison);
            assertThat(letter.getSourceTopic()).isEqualTo(topics.completions().name());
            assertThat(letter.getService()).isEqualTo(appId);
        } // and the service shuts down cleanly
        // (the local stores stay in the state dir)
        assertThat(tmp.resolve("state").resolve(appId).resolve("0_0").resolve("rocksdb"))
                .isDirectory();
        assertThat(cluster.consume(kafka, topics.advantages().name(), 1, Duration.ofSeconds(2)))
                .isEmpty();

        // when a new instance with the same state dir sees the remaining executions
        Instant restartAt = Instant.now();
        AdvantageService second = new AdvantageService(cfg, WEIGHTS, kafka, topics);
        CompletableFuture<Integer> exit =
                CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                return second.run();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                return -1;
                            }
                        });
        try (AdvantageService service = second) {
            assertThat(service.awaitRunning(Duration.ofSeconds(60))).isTrue();
            // (a clean close recorded the changelog positions: nothing needs restoring)
            assertThat(service.restoredRecords()).isZero();
            cluster.produce(kafka, records.subList(G + 2, 2 * G));

            // then the group closes complete, with members from before and after the restart
            List<ConsumerRecord<byte[], byte[]>> out =
                    cluster.consume(kafka, topics.advantages().name(), 1, Duration.ofSeconds(60));
            assertThat(out).hasSize(1);
            AdvantageGroup g =
                    topics.advantages()
                            .valueSerde()
                            .deserialize(out.get(0).topic(), out.get(0).value());
            assertThat(g.getCloseReason()).isEqualTo(GroupClose.COMPLETE);
            assertThat(g.getMembers()).hasSize(G);
            assertThat(g.getFirstSeenAt())
                    .isAfterOrEqualTo(beforeFirstRecord.minusSeconds(1))
                    .isBefore(restartAt);
            double[] expected = expectedAdvantages(1);
            for (int m = 0; m < G; m++) {
                assertThat(g.getMembers().get(m).getAdvantage())
                        .isCloseTo(expected[m], within(1e-12));
            }

            // and its metrics reach the metrics topic through the same transactions
            List<Metric> metrics = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (metrics.stream()
                            .noneMatch(x -> x.getName().equals(AdvantageMetrics.GROUPS_EMITTED))
                    && System.nanoTime() < deadline) {
                metrics.clear();
                for (ConsumerRecord<byte[], byte[]> r :
                        cluster.consume(
                                kafka, topics.metrics().name(), 100, Duration.ofSeconds(2))) {
                    metrics.add(topics.metrics().valueSerde().deserialize(r.topic(), r.value()));
                }
            }
            assertThat(metrics)
                    .anyMatch(
                            x ->
                                    x.getName().equals(AdvantageMetrics.GROUPS_EMITTED)
                                            && x.getValue() == 1.0)
                    .anyMatch(
                            x ->
                                    x.getName().equals(AdvantageMetrics.REWARDS_MEAN)
                                            && x.getPolicyVersion() == 3L)
                    .allMatch(x -> x.getSource().equals(cfg.metricsSource()));
        }
        // and run() returns 0 after the clean close
        assertThat(exit.get(30, TimeUnit.SECONDS)).isZero();
    }
}

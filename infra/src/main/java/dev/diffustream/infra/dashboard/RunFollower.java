package dev.diffustream.infra.dashboard;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.TopicDef;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.serde.RecordDecoder;
import dev.diffustream.schemas.serde.UndecodableRecordException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every topic of a run from the beginning, read_committed, with its own consumer and no
 * consumer group (so it never joins, rebalances or commits for the services' groups), and feeds the
 * {@link RunModel}. Topics that do not exist yet are looked for again every few seconds, so a
 * dashboard started before the run picks its topics up when they appear.
 */
final class RunFollower implements Runnable, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunFollower.class);

    private static final long TOPIC_REFRESH_MS = 5_000;
    private static final long CAUGHT_UP_CHECK_MS = 1_000;
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(5);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final RunModel model;
    private final String prefix;

    /** full topic name → (base name, handler of a decoded-or-raw record). */
    private final Map<String, Route> routes = new HashMap<>();

    private final Set<TopicPartition> assigned = new HashSet<>();
    private List<String> missing = new ArrayList<>();
    private volatile boolean closed;
    private long nextRefresh;
    private long nextCheck;
    private boolean caughtUp;
    private String error;

    private record Route(String baseName, Consumer<ConsumerRecord<byte[], byte[]>> handler) {}

    RunFollower(KafkaConfig kafka, Topics topics, RunModel model, String clientId) {
        Map<String, Object> props = Clients.consumer(kafka, clientId, null);
        // A dashboard watches; it must never create a topic the services expect to create.
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        this.consumer = new KafkaConsumer<>(props);
        this.model = model;
        this.prefix = topics.prefix();
        route(topics, Topics.TASKS, null);
        route(topics, Topics.COMPLETIONS, null);
        route(topics, Topics.EXECUTIONS, decoded(topics.executions(), model::onExecution));
        route(
                topics,
                Topics.ADVANTAGES,
                decoded(
                        topics.advantages(),
                        (AdvantageGroup g, ConsumerRecord<byte[], byte[]> r) ->
                                model.onAdvantageGroup(g, r.partition(), r.offset())));
        route(topics, Topics.CHECKPOINTS, decoded(topics.checkpoints(), model::onCheckpoint));
        route(topics, Topics.TRAIN_STEPS, decoded(topics.trainSteps(), model::onTrainStep));
        route(topics, Topics.METRICS, decoded(topics.metrics(), model::onMetric));
        route(topics, Topics.DEAD_LETTERS, decoded(topics.deadLetters(), model::onDeadLetter));
    }

    private interface Sink<V> {
        void accept(V value, ConsumerRecord<byte[], byte[]> record);
    }

    private <V extends SpecificRecord> Sink<V> decodedSink(Consumer<V> sink) {
        return (v, r) -> sink.accept(v);
    }

    private <V extends SpecificRecord> Consumer<ConsumerRecord<byte[], byte[]>> decoded(
            Topic<V> topic, Consumer<V> sink) {
        return decoded(topic, decodedSink(sink));
    }

    private <V extends SpecificRecord> Consumer<ConsumerRecord<byte[], byte[]>> decoded(
            Topic<V> topic, Sink<V> sink) {
        RecordDecoder<V> decoder = new RecordDecoder<>(topic);
        String base = topic.def().baseName();
        return r -> {
            if (r.value() == null) {
                return;
            }
            V value;
            try {
                value = decoder.value(r);
            } catch (UndecodableRecordException e) {
                model.undecodable(base);
                LOG.debug("dashboard: {}", e.getMessage());
                return;
            }
            sink.accept(value, r);
        };
    }

    private void route(
            Topics topics, TopicDef<?> def, Consumer<ConsumerRecord<byte[], byte[]>> handler) {
        routes.put(def.name(topics.prefix()), new Route(def.baseName(), handler));
    }

    @Override
    public void run() {
        try {
            while (!closed) {
                try {
                    long now = System.currentTimeMillis();
                    if (now >= nextRefresh) {
                        refreshAssignment();
                        nextRefresh = now + TOPIC_REFRESH_MS;
                    }
                    if (assigned.isEmpty()) {
                        caughtUp = true; // nothing exists yet, so nothing is unread
                        publishStatus();
                        Thread.sleep(POLL.toMillis());
                        continue;
                    }
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                        dispatch(r);
                    }
                    if (System.currentTimeMillis() >= nextCheck) {
                        checkCaughtUp();
                        nextCheck = System.currentTimeMillis() + CAUGHT_UP_CHECK_MS;
                    }
                    error = null;
                } catch (WakeupException e) {
                    if (closed) {
                        return;
                    }
                } catch (KafkaException e) {
                    // A dashboard shows the problem and keeps trying, it never gives up on a run.
                    error = e.getClass().getSimpleName() + ": " + e.getMessage();
                    LOG.warn("dashboard: reading the run's topics failed: {}", error);
                    publishStatus();
                    Thread.sleep(1_000);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void dispatch(ConsumerRecord<byte[], byte[]> r) {
        Route route = routes.get(r.topic());
        if (route == null) {
            return;
        }
        model.record(route.baseName(), r.timestamp());
        if (route.handler() != null) {
            route.handler().accept(r);
        }
    }

    /** Assigns every partition of the run's topics that exists; new ones start at the beginning. */
    private void refreshAssignment() {
        Map<String, List<PartitionInfo>> all = consumer.listTopics(ADMIN_TIMEOUT);
        Set<TopicPartition> wanted = new HashSet<>();
        List<String> stillMissing = new ArrayList<>();
        for (Map.Entry<String, Route> e : routes.entrySet()) {
            List<PartitionInfo> parts = all.get(e.getKey());
            if (parts == null || parts.isEmpty()) {
                stillMissing.add(e.getValue().baseName());
                continue;
            }
            for (PartitionInfo p : parts) {
                wanted.add(new TopicPartition(p.topic(), p.partition()));
            }
        }
        stillMissing.sort(null);
        missing = stillMissing;
        if (!wanted.equals(assigned)) {
            Set<TopicPartition> added = new HashSet<>(wanted);
            added.removeAll(assigned);
            consumer.assign(wanted);
            consumer.seekToBeginning(added);
            assigned.clear();
            assigned.addAll(wanted);
            caughtUp = false;
            LOG.info(
                    "dashboard: following {} partitions under prefix '{}'{}",
                    assigned.size(),
                    prefix,
                    missing.isEmpty() ? "" : "; missing topics " + missing);
        }
        publishStatus();
    }

    /** Whether every assigned partition has been read up to its last stable offset. */
    private void checkCaughtUp() {
        Map<TopicPartition, Long> end = consumer.endOffsets(assigned, ADMIN_TIMEOUT);
        boolean all = true;
        for (TopicPartition tp : assigned) {
            Long e = end.get(tp);
            if (e != null && consumer.position(tp, ADMIN_TIMEOUT) < e) {
                all = false;
                break;
            }
        }
        caughtUp = all;
        publishStatus();
    }

    private void publishStatus() {
        model.consumerStatus(caughtUp, missing, error);
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
    }
}

package dev.diffustream.producers.feeder;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuite;
import dev.diffustream.schemas.Seeds;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.Split;
import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RunConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.serde.RecordDecoder;
import dev.diffustream.schemas.telemetry.Telemetry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a task suite's split to {@code tasks} in a seeded order, epoch after epoch, paced so
 * that it never runs more than {@link FeederConfig#maxAheadGroups()} groups ahead of what the
 * learner has consumed. Each task is published in its own transaction, so a restarted feeder finds
 * exactly where it stopped (the highest committed sequence of its run) and continues from there.
 *
 * <p>Task sequence s goes to partition {@code s mod P} of {@code tasks} ({@link #partitionOf}), so
 * consecutive tasks spread evenly over the actors of the consumer group.
 */
public final class Feeder {
    private static final Logger LOG = LoggerFactory.getLogger(Feeder.class);

    /** Progress callback. */
    @FunctionalInterface
    public interface Progress {
        void published(long sequence, long total, long consumedGroups);
    }

    private final KafkaConfig kafka;
    private final RunConfig run;
    private final FeederConfig cfg;
    private final Topics topics;
    private final TaskSuite suite;

    public Feeder(
            KafkaConfig kafka, RunConfig run, FeederConfig cfg, Topics topics, TaskSuite suite) {
        this.kafka = kafka;
        this.run = run;
        this.cfg = cfg;
        this.topics = topics;
        this.suite = suite;
    }

    /** The split named in config. */
    static TaskSplit split(String name) {
        return TaskSplit.parse("feeder.split", name);
    }

    /**
     * The tasks the feeder draws from: the first {@code poolSize} of the split in the suite's order
     * (all of them when {@code poolSize} is 0 or larger than the split).
     */
    static List<CodeTask> pool(List<CodeTask> split, int poolSize) {
        return poolSize <= 0 || poolSize >= split.size() ? split : split.subList(0, poolSize);
    }

    /**
     * The order of the split's tasks in {@code epoch}: a seeded shuffle, the same for the same root
     * seed and epoch.
     */
    static List<CodeTask> order(List<CodeTask> tasks, long rootSeed, int epoch) {
        List<CodeTask> out = new ArrayList<>(tasks);
        Collections.shuffle(out, new Random(Seeds.derive(rootSeed, "feeder-epoch", epoch)));
        return out;
    }

    /**
     * The {@code tasks} partition of sequence {@code seq}: round robin over the topic's {@code
     * partitions}. Any P consecutive tasks then land one per partition. The actors take their
     * partitions round robin too ({@code Actor.consumerSettings}), so when the actor count A
     * divides P, task s goes to actor s mod A and a synchronous round of B groups (B a multiple of
     * A) gives every actor B / A of them. Hashing the task id, Kafka's default for a keyed record,
     * gives each actor a binomial share instead: with 4 partitions, 2 actors and 4 tasks per round,
     * half the rounds split 3 to 1 and one in eight 4 to 0, and a synchronous round lasts as long
     * as its busiest actor. Sequence, not arrival, decides the partition, so a resumed feeder keeps
     * the same layout.
     */
    static int partitionOf(long seq, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException(
                    "a topic has at least one partition, got " + partitions);
        }
        return (int) Math.floorMod(seq, (long) partitions);
    }

    /**
     * Feeds until every task of every epoch is published or {@code stop} says so.
     *
     * @return the number of tasks published by this call
     */
    public long run(BooleanSupplier stop, Progress progress) throws InterruptedException {
        TaskSplit split = split(cfg.split());
        List<CodeTask> tasks = pool(suite.load(split), cfg.poolSize());
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException(
                    "task suite '" + cfg.suite() + "' has no tasks in split " + cfg.split());
        }
        if (cfg.poolSize() > 0) {
            LOG.info(
                    "feeder: a pool of the first {} tasks of split {} (feeder.poolSize)",
                    tasks.size(),
                    cfg.split());
        }
        long perEpoch = tasks.size();
        long total = perEpoch * cfg.epochs();
        if (cfg.maxTasks() > 0) {
            total = Math.min(total, cfg.maxTasks());
        }
        Topic<Task> topic = topics.tasks();
        long next = lastPublishedSequence(topic) + 1;
        if (next > 0) {
            LOG.info("feeder: resuming run {} at task sequence {} of {}", run.id(), next, total);
        }
        long published = 0;
        Map<String, Object> props =
                Clients.transactionalProducer(
                        kafka, "feeder-" + run.id(), topics.prefix() + "feeder-" + run.id());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props);
                Telemetry.Binding pm = Telemetry.global().bindKafkaClient(producer);
                LearnerProgress learner = new LearnerProgress(kafka, topics.metrics(), run.id())) {
            producer.initTransactions();
            int partitions = producer.partitionsFor(topic.name()).size();
            int cachedEpoch = -1;
            List<CodeTask> ordered = List.of();
            long consumed = learner.consumedGroups(Duration.ZERO);
            for (long seq = next; seq < total && !stop.getAsBoolean(); seq++) {
                while (seq - consumed >= cfg.maxAheadGroups() && !stop.getAsBoolean()) {
                    consumed = learner.consumedGroups(Duration.ofMillis(cfg.pacingPollMs()));
                }
                if (stop.getAsBoolean()) {
                    break;
                }
                int epoch = (int) (seq / perEpoch);
                if (epoch != cachedEpoch) {
                    ordered = order(tasks, run.seed(), epoch);
                    cachedEpoch = epoch;
                }
                CodeTask t = ordered.get((int) (seq % perEpoch));
                Task event = toEvent(t, epoch, seq);
                producer.beginTransaction();
                producer.send(
                        new ProducerRecord<>(
                                topic.name(),
                                partitionOf(seq, partitions),
                                t.id().getBytes(StandardCharsets.UTF_8),
                                topic.valueSerde().serialize(topic.name(), event)));
                producer.commitTransaction();
                published++;
                progress.published(seq, total, consumed);
                consumed = learner.consumedGroups(Duration.ZERO);
            }
        }
        return published;
    }

    Task toEvent(CodeTask t, int epoch, long seq) {
        return Task.newBuilder()
                .setRunId(run.id())
                .setTaskId(t.id())
                .setPrompt(t.prompt())
                .setTests(t.tests())
                .setEntryPoint(t.entryPoint())
                .setSetupCode(t.setupCode())
                .setSource(t.source())
                .setSplit(toSplit(t.split()))
                .setEpoch(epoch)
                .setSequence(seq)
                .setSeed(Seeds.derive(run.seed(), "task", seq))
                .build();
    }

    static Split toSplit(TaskSplit s) {
        return switch (s) {
            case TRAIN -> Split.TRAIN;
            case HELDOUT -> Split.HELDOUT;
            case TEST -> Split.TEST;
        };
    }

    /** The highest sequence this run has committed to {@code tasks}, or -1. */
    private long lastPublishedSequence(Topic<Task> topic) {
        Map<String, Object> props = Clients.consumer(kafka, "feeder-resume-" + run.id(), null);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
            List<PartitionInfo> infos = c.partitionsFor(topic.name(), Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException(
                        "topic "
                                + topic.name()
                                + " does not exist: create the topics first (diffustream infra"
                                + " or the topic initialiser)");
            }
            List<TopicPartition> tps =
                    infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            RecordDecoder<Task> decoder = new RecordDecoder<>(topic);
            long max = -1;
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    try {
                        Task t = decoder.value(r);
                        if (run.id().equals(t.getRunId())) {
                            max = Math.max(max, t.getSequence());
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("feeder: skipping undecodable task record: {}", e.getMessage());
                    }
                }
            }
            return max;
        }
    }
}

package dev.diffustream.learner.replay;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.serde.RecordDecoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads AdvantageGroups at the {@code advantages} coordinates recorded in TrainSteps ({@code
 * read_committed}, no consumer group: a replay never commits offsets or touches the run's consumer
 * groups).
 *
 * <p>Batches name records in roughly increasing offsets per partition, so each partition is read
 * forward; records that a later batch names are kept when they pass by, and a request behind the
 * read position seeks back.
 */
public final class AdvantageFetcher implements GroupSource, AutoCloseable {

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Topic<AdvantageGroup> topic;
    private final RecordDecoder<AdvantageGroup> decoder;
    private final Duration timeout;
    private final Map<Integer, Set<Long>> wanted = new HashMap<>();
    private final Map<Integer, Map<Long, ConsumerRecord<byte[], byte[]>>> kept = new HashMap<>();
    private final Map<Integer, TopicPartition> partitions = new HashMap<>();

    /**
     * @param wanted every coordinate the replay will ask for (records passed on the way to another
     *     are kept only if wanted)
     * @param timeout longest wait for one record
     */
    public AdvantageFetcher(
            KafkaConfig kafka,
            Topic<AdvantageGroup> topic,
            Collection<GroupRef> wanted,
            Duration timeout) {
        this.topic = topic;
        this.decoder = new RecordDecoder<>(topic);
        this.timeout = timeout;
        for (GroupRef r : wanted) {
            this.wanted.computeIfAbsent(r.getPartition(), p -> new HashSet<>()).add(r.getOffset());
        }
        Map<String, Object> props = Clients.consumer(kafka, "replay-advantages", null);
        // Groups carry token ids and log-probs; a modest batch keeps the look-ahead small.
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 64);
        this.consumer = new KafkaConsumer<>(props);
        List<PartitionInfo> infos = consumer.partitionsFor(topic.name(), timeout);
        if (infos == null || infos.isEmpty()) {
            consumer.close();
            throw new IllegalStateException(
                    "topic '" + topic.name() + "' does not exist on " + kafka.bootstrap());
        }
        List<TopicPartition> tps = new ArrayList<>();
        for (PartitionInfo i : infos) {
            TopicPartition tp = new TopicPartition(i.topic(), i.partition());
            partitions.put(i.partition(), tp);
            tps.add(tp);
        }
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        consumer.pause(tps);
    }

    @Override
    public AdvantageGroup fetch(GroupRef ref) {
        int p = ref.getPartition();
        long offset = ref.getOffset();
        TopicPartition tp = partitions.get(p);
        if (tp == null) {
            throw new IllegalStateException(
                    "advantages record "
                            + p
                            + "@"
                            + offset
                            + " of group "
                            + ref.getGroupId()
                            + ": topic '"
                            + topic.name()
                            + "' has no partition "
                            + p);
        }
        ConsumerRecord<byte[], byte[]> record = take(p, offset);
        if (record == null) {
            record = read(tp, offset);
        }
        AdvantageGroup g = decoder.value(record);
        if (!ref.getGroupId().equals(g.getGroupId())) {
            throw new IllegalStateException(
                    "advantages record "
                            + p
                            + "@"
                            + offset
                            + " holds group "
                            + g.getGroupId()
                            + ", but the step log names "
                            + ref.getGroupId());
        }
        return g;
    }

    private ConsumerRecord<byte[], byte[]> take(int partition, long offset) {
        Map<Long, ConsumerRecord<byte[], byte[]>> m = kept.get(partition);
        return m == null ? null : m.remove(offset);
    }

    private ConsumerRecord<byte[], byte[]> read(TopicPartition tp, long offset) {
        if (consumer.position(tp) > offset) {
            consumer.seek(tp, offset);
        }
        consumer.resume(List.of(tp));
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                ConsumerRecord<byte[], byte[]> found = null;
                boolean passed = false;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() == offset) {
                        found = r;
                    } else {
                        passed |= r.offset() > offset;
                        keepIfWanted(r);
                    }
                }
                if (found != null) {
                    return found;
                }
                if (passed) {
                    throw new IllegalStateException(
                            "advantages partition "
                                    + tp.partition()
                                    + " has no committed record at offset "
                                    + offset
                                    + " (the step log names one there)");
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "advantages record "
                                    + tp.partition()
                                    + "@"
                                    + offset
                                    + " not read within "
                                    + timeout.toSeconds()
                                    + " s (read position "
                                    + consumer.position(tp)
                                    + ")");
                }
            }
        } finally {
            consumer.pause(List.of(tp));
        }
    }

    private void keepIfWanted(ConsumerRecord<byte[], byte[]> r) {
        Set<Long> w = wanted.get(r.partition());
        if (w != null && w.contains(r.offset())) {
            kept.computeIfAbsent(r.partition(), p -> new HashMap<>()).put(r.offset(), r);
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}

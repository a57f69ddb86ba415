package dev.diffustream.cli.pipeline;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.serde.RecordDecoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a whole topic from the beginning, incrementally, as {@code read_committed} (what the
 * services see) or {@code read_uncommitted} (also the records of open and aborted transactions),
 * and keeps every record decoded with its coordinates. No consumer group: nothing is committed.
 */
final class TopicTail<V extends SpecificRecord> implements AutoCloseable {

    /** A decoded record and where it is. */
    record Entry<V>(int partition, long offset, V value) {}

    private final Topic<V> topic;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> partitions;
    private final RecordDecoder<V> decoder;
    private final List<Entry<V>> all = new ArrayList<>();

    private TopicTail(KafkaConfig kafka, Topic<V> topic, boolean committed) {
        this.topic = topic;
        Map<String, Object> p = Clients.consumer(kafka, "pipeline-it-" + UUID.randomUUID(), null);
        p.put(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                committed ? "read_committed" : "read_uncommitted");
        // The tests act on what they see (kill a service now): fetches answer within 20 ms.
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
        this.consumer = new KafkaConsumer<>(p);
        List<PartitionInfo> infos = consumer.partitionsFor(topic.name(), Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            consumer.close();
            throw new IllegalStateException("topic " + topic.name() + " does not exist");
        }
        this.partitions =
                infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        this.decoder = new RecordDecoder<>(topic);
    }

    /** What the services see: committed transactions only. */
    static <V extends SpecificRecord> TopicTail<V> committed(KafkaConfig kafka, Topic<V> topic) {
        return new TopicTail<>(kafka, topic, true);
    }

    /** Everything written, including records of open and aborted transactions. */
    static <V extends SpecificRecord> TopicTail<V> uncommitted(KafkaConfig kafka, Topic<V> topic) {
        return new TopicTail<>(kafka, topic, false);
    }

    /** Reads what arrives within {@code wait}; returns the new records. */
    List<Entry<V>> poll(Duration wait) {
        List<Entry<V>> fresh = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(wait)) {
            Entry<V> e = new Entry<>(r.partition(), r.offset(), decoder.value(r));
            fresh.add(e);
            all.add(e);
        }
        return fresh;
    }

    /**
     * Reads up to the end of the topic as of now (for {@code read_committed}: the last stable
     * offset, so every transaction committed before this call is included).
     */
    List<Entry<V>> readToEnd(Duration timeout) {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "could not read " + topic.name() + " to " + end + " within " + timeout);
            }
            poll(Duration.ofMillis(100));
        }
        return List.copyOf(all);
    }

    /** Every record read so far, in the order read (log order within a partition). */
    List<Entry<V>> entries() {
        return List.copyOf(all);
    }

    /** The values read so far. */
    List<V> values() {
        return all.stream().map(Entry::value).toList();
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}

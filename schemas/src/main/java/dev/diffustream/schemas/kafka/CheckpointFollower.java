package dev.diffustream.schemas.kafka;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.serde.RecordDecoder;
import dev.diffustream.schemas.telemetry.Telemetry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a run's {@code checkpoints} log (one partition, read_committed) and remembers the newest
 * Checkpoint event. Not thread-safe: one follower per consuming thread.
 */
public final class CheckpointFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointFollower.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final RecordDecoder<Checkpoint> decoder;
    private final TopicPartition tp;
    private final String runId;
    private final Telemetry.Binding metrics;
    private Checkpoint latest;

    public CheckpointFollower(
            KafkaConfig kafka, Topic<Checkpoint> topic, String runId, String clientId) {
        Map<String, Object> props = Clients.consumer(kafka, clientId, null);
        this.consumer = new KafkaConsumer<>(props);
        this.metrics = Telemetry.global().bindKafkaClient(consumer);
        this.tp = new TopicPartition(topic.name(), 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        this.decoder = new RecordDecoder<>(topic);
        this.runId = runId;
    }

    /** Reads what arrives within {@code wait}; returns the newest checkpoint known. */
    public Optional<Checkpoint> poll(Duration wait) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(wait)) {
            accept(r);
        }
        return Optional.ofNullable(latest);
    }

    /**
     * Reads up to the end of the committed log as of now (the last stable offset), so every
     * checkpoint committed before this call is seen.
     */
    public Optional<Checkpoint> catchUp(Duration timeout) {
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (consumer.position(tp) < end && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                accept(r);
            }
        }
        return Optional.ofNullable(latest);
    }

    private void accept(ConsumerRecord<byte[], byte[]> r) {
        try {
            Checkpoint c = decoder.value(r);
            if (runId.equals(c.getRunId())
                    && (latest == null || c.getVersion() > latest.getVersion())) {
                latest = c;
            }
        } catch (RuntimeException e) {
            LOG.warn("ignoring undecodable checkpoint record: {}", e.getMessage());
        }
    }

    /** The newest checkpoint seen so far. */
    public Optional<Checkpoint> latest() {
        return Optional.ofNullable(latest);
    }

    @Override
    public void close() {
        metrics.close();
        consumer.close(Duration.ofSeconds(2));
    }
}

package dev.diffustream.schemas.kafka;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.avro.DeadLetter;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Builds and sends {@link DeadLetter}s: the raw bytes of a record a consumer gave up on, with where
 * it came from and why. Sent through the caller's producer so a transactional consumer parks the
 * poison record in the same transaction that moves its offset past it.
 */
public final class DeadLetters {

    private final Topic<DeadLetter> topic;
    private final String service;

    public DeadLetters(Topic<DeadLetter> topic, String service) {
        this.topic = topic;
        this.service = service;
    }

    /** The dead letter for a raw record and the error that stopped it. */
    public DeadLetter of(ConsumerRecord<byte[], byte[]> record, Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return DeadLetter.newBuilder()
                .setSourceTopic(record.topic())
                .setSourcePartition(record.partition())
                .setSourceOffset(record.offset())
                .setKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
                .setValue(record.value() == null ? null : ByteBuffer.wrap(record.value()))
                .setError(String.valueOf(error.getMessage()))
                .setErrorClass(root.getClass().getName())
                .setService(service)
                .setTimestamp(Instant.now())
                .build();
    }

    /**
     * Sends the dead letter for {@code record} with the producer (inside its transaction, if any).
     */
    public void send(
            Producer<byte[], byte[]> producer,
            ConsumerRecord<byte[], byte[]> record,
            Throwable error) {
        DeadLetter letter = of(record, error);
        producer.send(
                new ProducerRecord<>(
                        topic.name(),
                        record.key(),
                        topic.valueSerde().serialize(topic.name(), letter)));
    }
}

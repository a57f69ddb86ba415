package dev.diffustream.schemas.serde;

import dev.diffustream.schemas.Topic;
import java.nio.charset.StandardCharsets;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes raw consumer records of one topic. Consumers read {@code byte[]} and decode here, so a
 * poison record surfaces as an {@link UndecodableRecordException} with its coordinates instead of
 * stalling {@code poll()} (which cannot skip a record that fails inside the deserializer).
 */
public final class RecordDecoder<V extends SpecificRecord> {

    private final Topic<V> topic;

    public RecordDecoder(Topic<V> topic) {
        this.topic = topic;
    }

    /** The record's string key (UTF-8), or {@code null}. */
    public static String key(ConsumerRecord<byte[], byte[]> record) {
        return record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    }

    /**
     * The record's value.
     *
     * @throws UndecodableRecordException with topic, partition and offset
     */
    public V value(ConsumerRecord<byte[], byte[]> record) {
        try {
            return topic.valueSerde().deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            throw new UndecodableRecordException(
                    record.topic(), record.partition(), record.offset(), e);
        }
    }
}

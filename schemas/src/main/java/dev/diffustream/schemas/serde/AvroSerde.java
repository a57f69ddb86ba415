package dev.diffustream.schemas.serde;

import dev.diffustream.schemas.registry.SchemaRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka serde for one generated Avro type on the Confluent wire format ({@link WireFormat}),
 * registering the schema under {@code <topic>-value} (or {@code -key}) on first use and resolving
 * each payload's writer schema by id, so payloads written by an older or newer schema version
 * decode with the reader schema compiled into this build (Avro schema resolution).
 *
 * <p>Thread-safe; one instance per (type, key/value) is enough for a whole process.
 *
 * @param <T> the generated record type
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

    private final Class<T> type;
    private final Schema readerSchema;
    private final SchemaRegistry registry;
    private final boolean isKey;
    private final SpecificDatumWriter<T> writer;
    private final Map<String, Integer> idByTopic = new ConcurrentHashMap<>();
    private final Map<Integer, SpecificDatumReader<T>> readers = new ConcurrentHashMap<>();
    private final ThreadLocal<BinaryEncoder> encoders = new ThreadLocal<>();
    private final ThreadLocal<BinaryDecoder> decoders = new ThreadLocal<>();

    /**
     * @param type generated Avro class
     * @param registry where schemas are registered and looked up
     * @param isKey whether this serde handles record keys ({@code <topic>-key} subject)
     */
    public AvroSerde(Class<T> type, SchemaRegistry registry, boolean isKey) {
        this.type = type;
        this.readerSchema = SpecificData.get().getSchema(type);
        this.registry = registry;
        this.isKey = isKey;
        this.writer = new SpecificDatumWriter<>(readerSchema);
    }

    /** A value serde. */
    public static <T extends SpecificRecord> AvroSerde<T> forValues(
            Class<T> type, SchemaRegistry registry) {
        return new AvroSerde<>(type, registry, false);
    }

    /** The schema compiled into this build for {@code T}. */
    public Schema schema() {
        return readerSchema;
    }

    /** The generated type. */
    public Class<T> type() {
        return type;
    }

    /** Encodes {@code record} for {@code topic}, registering the schema on first use. */
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        int id = idByTopic.computeIfAbsent(topic, this::registerFor);
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.write(WireFormat.MAGIC);
        out.write(id >>> 24);
        out.write(id >>> 16);
        out.write(id >>> 8);
        out.write(id);
        try {
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, encoders.get());
            encoders.set(encoder);
            writer.write(record, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException(
                    "cannot encode " + type.getSimpleName() + " for topic '" + topic + "': " + e,
                    e);
        }
        return out.toByteArray();
    }

    /**
     * Decodes a framed payload.
     *
     * @throws SerializationException naming the topic and the reason (bad magic byte, unknown
     *     schema id, truncated or corrupt Avro data, incompatible writer schema)
     */
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        int id;
        try {
            id = WireFormat.schemaId(data);
        } catch (IllegalArgumentException e) {
            throw new SerializationException(
                    "cannot decode "
                            + type.getSimpleName()
                            + " from topic '"
                            + topic
                            + "': "
                            + e.getMessage(),
                    e);
        }
        try {
            SpecificDatumReader<T> reader = readers.computeIfAbsent(id, this::readerFor);
            BinaryDecoder decoder =
                    DecoderFactory.get()
                            .binaryDecoder(
                                    data,
                                    WireFormat.HEADER_SIZE,
                                    data.length - WireFormat.HEADER_SIZE,
                                    decoders.get());
            decoders.set(decoder);
            T record = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                throw new IOException(
                        "trailing bytes after the record (payload longer than its schema)");
            }
            return record;
        } catch (IOException | RuntimeException e) {
            throw new SerializationException(
                    "cannot decode "
                            + type.getSimpleName()
                            + " (schema id "
                            + id
                            + ") from topic '"
                            + topic
                            + "': "
                            + e,
                    e);
        }
    }

    private int registerFor(String topic) {
        String subject =
                isKey ? SchemaRegistry.keySubject(topic) : SchemaRegistry.valueSubject(topic);
        return registry.register(subject, readerSchema);
    }

    private SpecificDatumReader<T> readerFor(int id) {
        Schema writerSchema = registry.schemaById(id);
        return new SpecificDatumReader<>(writerSchema, readerSchema);
    }

    @Override
    public Serializer<T> serializer() {
        return this::serialize;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this::deserialize;
    }
}

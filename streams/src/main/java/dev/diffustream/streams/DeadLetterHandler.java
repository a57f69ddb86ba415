package dev.diffustream.streams;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.avro.DeadLetter;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parks records the source deserializers cannot decode (our {@code AvroSerde} throws Kafka's {@code
 * SerializationException}: bad magic byte, unknown schema id, corrupt Avro) in {@code dead-letters}
 * as a {@link DeadLetter} with the raw bytes, and lets the task continue. Kafka Streams sends the
 * returned records with its own producer, so under exactly_once_v2 the dead letter commits in the
 * same transaction as the offset that skips the poison record.
 *
 * <p>Kafka Streams instantiates the handler by class name; its collaborators arrive through the
 * Streams properties: {@link #TOPIC_CONFIG} (the bound {@code Topic<DeadLetter>}, an object) and
 * {@link #SERVICE_CONFIG} (the service name written into each letter). If the dead letter itself
 * cannot be encoded (registry unreachable), the handler fails the task rather than lose the record.
 */
public final class DeadLetterHandler implements DeserializationExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterHandler.class);

    /** Property holding the {@code Topic<DeadLetter>} to write to. */
    public static final String TOPIC_CONFIG = "diffustream.dead.letters.topic";

    /** Property holding the service name written into each letter. */
    public static final String SERVICE_CONFIG = "diffustream.dead.letters.service";

    private Topic<DeadLetter> topic;
    private String service = "streams";

    @Override
    @SuppressWarnings("unchecked")
    public void configure(Map<String, ?> configs) {
        Object t = configs.get(TOPIC_CONFIG);
        if (!(t instanceof Topic<?> bound) || bound.def().valueType() != DeadLetter.class) {
            throw new ConfigException(
                    TOPIC_CONFIG,
                    t,
                    "must be the bound dead-letters Topic<DeadLetter> (Topics#deadLetters())");
        }
        this.topic = (Topic<DeadLetter>) bound;
        Object s = configs.get(SERVICE_CONFIG);
        if (s != null) {
            this.service = s.toString();
        }
    }

    @Override
    public Response handleError(
            ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception e) {
        LOG.warn(
                "undecodable record at {}-{}@{} sent to {}: {}",
                context.topic(),
                context.partition(),
                context.offset(),
                topic.name(),
                e.toString());
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        DeadLetter letter =
                DeadLetter.newBuilder()
                        .setSourceTopic(context.topic())
                        .setSourcePartition(context.partition())
                        .setSourceOffset(context.offset())
                        .setKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
                        .setValue(record.value() == null ? null : ByteBuffer.wrap(record.value()))
                        .setError(String.valueOf(e.getMessage()))
                        .setErrorClass(root.getClass().getName())
                        .setService(service)
                        .setTimestamp(Instant.now())
                        .build();
        byte[] bytes;
        try {
            bytes = topic.valueSerde().serialize(topic.name(), letter);
        } catch (RuntimeException encodeFailure) {
            LOG.error(
                    "cannot encode the dead letter for {}-{}@{}; failing the task instead of"
                            + " losing the record",
                    context.topic(),
                    context.partition(),
                    context.offset(),
                    encodeFailure);
            return Response.fail();
        }
        return Response.resume(List.of(new ProducerRecord<>(topic.name(), record.key(), bytes)));
    }
}

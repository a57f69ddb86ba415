package dev.diffustream.schemas.registry;

import java.util.List;
import org.apache.avro.Schema;

/**
 * The subset of the Confluent Schema Registry API that our serdes and tools use. Implemented over
 * HTTP by {@link RestSchemaRegistry} (Confluent, Apicurio ccompat, Karapace, Redpanda, our
 * stand-in) and in memory by {@link InMemorySchemaRegistry} for unit tests.
 *
 * <p>Subjects follow the topic-name strategy: {@code <topic>-value} and {@code <topic>-key}.
 */
public interface SchemaRegistry extends AutoCloseable {

    /**
     * Registers {@code schema} under {@code subject} (idempotent: an identical schema returns its
     * existing id).
     *
     * @return the global schema id
     * @throws SchemaRegistryException with status 409 if the schema is incompatible with the
     *     subject's compatibility rule, 422 if it is invalid
     */
    int register(String subject, Schema schema);

    /** The schema with this global id (cached: ids are immutable). */
    Schema schemaById(int id);

    /** The latest version registered under {@code subject}. */
    SchemaVersion latest(String subject);

    /** Whether {@code schema} may be registered under {@code subject} now. */
    boolean isCompatible(String subject, Schema schema);

    /** All subjects. */
    List<String> subjects();

    /** The global compatibility level (e.g. {@code BACKWARD}). */
    String compatibility();

    @Override
    default void close() {}

    /** One registered version of a subject. */
    record SchemaVersion(String subject, int version, int id, Schema schema) {}

    /** The subject that holds values of a topic (topic-name strategy). */
    static String valueSubject(String topic) {
        return topic + "-value";
    }

    /** The subject that holds keys of a topic (topic-name strategy). */
    static String keySubject(String topic) {
        return topic + "-key";
    }
}

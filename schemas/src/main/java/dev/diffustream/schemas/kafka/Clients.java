package dev.diffustream.schemas.kafka;

import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.registry.RestSchemaRegistry;
import dev.diffustream.schemas.registry.SchemaRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Client property sets shared by every service. Each non-default setting says why (STYLE rule 6).
 * The recipe's {@code kafka.client} map is applied last, so security settings (SASL/TLS) reach
 * every client.
 */
public final class Clients {

    /** The consumer's default {@code connections.max.idle.ms} (9 minutes). */
    static final long DEFAULT_CONNECTIONS_MAX_IDLE_MS = 540_000L;

    private Clients() {}

    /** Properties every client gets: bootstrap, client id, and the recipe's overrides. */
    public static Map<String, Object> common(KafkaConfig kafka, String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        p.putAll(kafka.client());
        return p;
    }

    /**
     * A transactional producer of raw bytes (values are encoded with our serdes before sending).
     *
     * @param transactionalId stable per service instance, so a restarted instance fences its zombie
     *     predecessor
     */
    public static Map<String, Object> transactionalProducer(
            KafkaConfig kafka, String clientId, String transactionalId) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        // Exactly once: consumed offsets and produced records commit atomically.
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // Our payloads are a few KB; batching a little raises throughput at no latency cost.
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        // Completions carry token ids and log-probs: compress them on the wire and on disk.
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        // A learner checkpoint transaction may wait on disk I/O; give it room before abort.
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 120_000);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.putAll(kafka.client());
        return p;
    }

    /** An idempotent, non-transactional producer of raw bytes (metrics, dead letters, tools). */
    public static Map<String, Object> producer(KafkaConfig kafka, String clientId) {
        Map<String, Object> p = common(kafka, clientId);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.putAll(kafka.client());
        return p;
    }

    /**
     * A consumer of raw bytes in a group, reading only committed transactions, committing offsets
     * itself (inside transactions or explicitly), never automatically.
     */
    public static Map<String, Object> consumer(KafkaConfig kafka, String clientId, String groupId) {
        Map<String, Object> p = common(kafka, clientId);
        if (groupId != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        }
        // Aborted transactions (a crashed actor's half-group) must never be seen.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // Offsets are committed with the produced records (exactly once) or after processing.
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // A new group starts at the beginning of the run's log: nothing is skipped.
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.putAll(kafka.client());
        return p;
    }

    /**
     * Sets a consumer's {@code max.poll.interval.ms} (the longest work between two polls) and keeps
     * {@code connections.max.idle.ms} above it, so an idle connection to the group coordinator is
     * not closed while the consumer works (Kafka warns about that combination). A value the user
     * set in {@code kafka.client} for either key wins.
     */
    public static void setMaxPollInterval(
            Map<String, Object> consumer, KafkaConfig kafka, long maxPollIntervalMs) {
        if (!kafka.client().containsKey(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG)) {
            consumer.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, (int) maxPollIntervalMs);
        }
        if (!kafka.client().containsKey(ConsumerConfig.CONNECTIONS_MAX_IDLE_MS_CONFIG)) {
            long idle = Math.max(DEFAULT_CONNECTIONS_MAX_IDLE_MS, maxPollIntervalMs + 60_000L);
            consumer.put(ConsumerConfig.CONNECTIONS_MAX_IDLE_MS_CONFIG, idle);
        }
    }

    /** A registry client for the recipe's registry URL and credentials. */
    public static SchemaRegistry registry(KafkaConfig kafka) {
        return new RestSchemaRegistry(
                kafka.registry(),
                kafka.registryAuth(),
                Duration.ofSeconds(5),
                Duration.ofSeconds(15));
    }
}

package dev.diffustream.infra.registry;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's records in a compacted, single-partition Kafka topic: every registry instance
 * sharing the topic sees the same records in the same order, and a restarted one rebuilds the same
 * state by reading the topic from the beginning.
 */
final class KafkaSchemaLog implements SchemaLog {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaSchemaLog.class);

    private final String bootstrap;
    private final String topic;
    private final TopicPartition partition;
    private final Duration timeout;
    private final Admin admin;
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Object progress = new Object();
    private long applied; // next offset to apply; guarded by progress
    private volatile boolean running;
    private volatile RuntimeException readerFailure;
    private Thread reader;

    /**
     * @param bootstrap Kafka bootstrap servers
     * @param client extra client properties (security settings)
     * @param topic the store topic (created compacted if missing)
     * @param replicationFactor of the store topic when created
     * @param timeout of start-up, writes and read-backs
     */
    KafkaSchemaLog(
            String bootstrap,
            Map<String, String> client,
            String topic,
            short replicationFactor,
            Duration timeout) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.partition = new TopicPartition(topic, 0);
        this.timeout = timeout;
        Map<String, Object> common = new HashMap<>();
        common.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        common.put(CommonClientConfigs.CLIENT_ID_CONFIG, "diffustream-registry");
        common.putAll(client);
        this.admin = Admin.create(common);
        try {
            createTopic(replicationFactor);
            Map<String, Object> p = new HashMap<>(common);
            // Registrations are rare and must never be lost or duplicated.
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            // Fail a registration within the registry's timeout, not after the default minute.
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) timeout.toMillis());
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
            p.put(
                    ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                    (int) Math.min(timeout.toMillis(), 10_000));
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            this.producer = new KafkaProducer<>(p);
            Map<String, Object> c = new HashMap<>(common);
            // No group: every instance reads the whole topic itself.
            c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            this.consumer = new KafkaConsumer<>(c);
        } catch (RuntimeException e) {
            admin.close(Duration.ofSeconds(1));
            throw e;
        }
    }

    private void createTopic(short replicationFactor) {
        NewTopic newTopic =
                new NewTopic(topic, 1, replicationFactor)
                        .configs(
                                Map.of(
                                        // Keep the latest record of each key forever.
                                        "cleanup.policy", "compact",
                                        "retention.ms", "-1"));
        try {
            Set<String> names =
                    admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (names.contains(topic)) {
                return;
            }
            admin.createTopics(List.of(newTopic))
                    .all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            LOG.debug("created registry store topic {}", topic);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException(
                        "schema registry: cannot create its store topic '"
                                + topic
                                + "' on "
                                + bootstrap
                                + ": "
                                + e.getCause().getMessage(),
                        e.getCause());
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException(
                    "schema registry: Kafka at "
                            + bootstrap
                            + " did not answer within "
                            + timeout.toSeconds()
                            + " s. Check that the broker is running and the bootstrap address.",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void start(Consumer<LogRecord> applier) {
        long end = endOffset();
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
        running = true;
        reader = new Thread(() -> readLoop(applier), "registry-log-reader");
        reader.setDaemon(true);
        reader.start();
        awaitApplied(end, "replaying " + end + " records of '" + topic + "'");
    }

    private void readLoop(Consumer<LogRecord> applier) {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    try {
                        applier.accept(LogRecord.decode(r.key(), r.value()));
                    } catch (IllegalArgumentException e) {
                        LOG.warn("skipping record {} of {}: {}", r.offset(), topic, e.getMessage());
                    }
                    advance(r.offset() + 1);
                }
                advance(consumer.position(partition));
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            readerFailure = e;
            LOG.error("registry log reader stopped", e);
            synchronized (progress) {
                progress.notifyAll();
            }
        } finally {
            consumer.close(Duration.ofSeconds(1));
        }
    }

    private void advance(long next) {
        synchronized (progress) {
            if (next > applied) {
                applied = next;
                progress.notifyAll();
            }
        }
    }

    private void awaitApplied(long offset, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (progress) {
            while (applied < offset) {
                if (readerFailure != null) {
                    throw RegistryError.store("the log reader failed: " + readerFailure);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw RegistryError.timeout(
                            what
                                    + ": read only up to offset "
                                    + applied
                                    + " of "
                                    + offset
                                    + " within "
                                    + timeout.toSeconds()
                                    + " s");
                }
                try {
                    progress.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw RegistryError.store("interrupted");
                }
            }
        }
    }

    private long endOffset() {
        try {
            return admin.listOffsets(Map.of(partition, OffsetSpec.latest()))
                    .partitionResult(partition)
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .offset();
        } catch (ExecutionException | TimeoutException e) {
            throw RegistryError.store(
                    "cannot read the end of '" + topic + "' on " + bootstrap + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw RegistryError.store("interrupted");
        }
    }

    @Override
    public void append(LogRecord record) {
        long offset;
        try {
            offset =
                    producer.send(new ProducerRecord<>(topic, 0, record.key(), record.value()))
                            .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                            .offset();
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw RegistryError.store(
                    "cannot write to '" + topic + "' on " + bootstrap + ": " + cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw RegistryError.store("interrupted");
        }
        awaitApplied(offset + 1, "reading back offset " + offset + " of '" + topic + "'");
    }

    @Override
    public void catchUp() {
        awaitApplied(endOffset(), "catching up with '" + topic + "'");
    }

    @Override
    public String describe() {
        return "topic '" + topic + "' on " + bootstrap;
    }

    @Override
    public void close() {
        running = false;
        if (reader != null) {
            consumer.wakeup();
            try {
                reader.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else {
            consumer.close(Duration.ofSeconds(1));
        }
        producer.close(Duration.ofSeconds(2));
        admin.close(Duration.ofSeconds(2));
    }
}

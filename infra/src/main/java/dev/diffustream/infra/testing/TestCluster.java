package dev.diffustream.infra.testing;

import dev.diffustream.infra.LocalKafka;
import dev.diffustream.infra.TopicBootstrap;
import dev.diffustream.infra.registry.RegistryServer;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.RestSchemaRegistry;
import dev.diffustream.schemas.registry.SchemaRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One real Kafka broker and one registry stand-in per test JVM, started on first use and shared by
 * every integration test in it (stopped by a shutdown hook). Each test class takes its own {@link
 * KafkaConfig} with a fresh topic prefix, so tests never see each other's records.
 *
 * <pre>{@code
 * KafkaConfig kafka = TestCluster.shared().newKafkaConfig("sandbox-it"); // prefix "sandbox-it-1-ab12."
 * TestCluster.shared().createTopics(kafka);                               // every topic of Topics.ALL
 * Topics topics = TestCluster.shared().topics(kafka);                      // serdes on the registry
 * }</pre>
 *
 * <p>Where the cluster comes from (the same test code runs against each):
 *
 * <ul>
 *   <li>{@code local} (default, what CI uses): a real KRaft broker in a child JVM ({@link
 *       LocalKafka}) and the Confluent-compatible registry stand-in ({@link RegistryServer});
 *   <li>{@code testcontainers} ({@code mvn -Ptestcontainers verify}, which sets the system property
 *       {@code diffustream.test.cluster=testcontainers}): the {@code apache/kafka} image and the
 *       real Confluent Schema Registry image, so our client and serde are proven against the real
 *       registry. Where no Docker engine is reachable, every test that asks for the cluster is
 *       <em>skipped</em> with a notice saying so (a JUnit assumption); the default never skips;
 *   <li>an already running cluster (e.g. {@code ./diffustream infra}): set the system properties
 *       (or environment variables) {@code diffustream.test.bootstrap} ({@code
 *       DIFFUSTREAM_TEST_BOOTSTRAP}) and {@code diffustream.test.registry} ({@code
 *       DIFFUSTREAM_TEST_REGISTRY}).
 * </ul>
 */
public final class TestCluster {
    private static final Logger LOG = LoggerFactory.getLogger(TestCluster.class);

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger PREFIXES = new AtomicInteger();
    private static TestCluster shared;

    /** System property (or {@code DIFFUSTREAM_TEST_CLUSTER}) choosing the provider. */
    public static final String PROVIDER_PROPERTY = "diffustream.test.cluster";

    static final String LOCAL = "local";
    static final String TESTCONTAINERS = "testcontainers";
    static final String EXTERNAL = "external";

    /** Compiled only with {@code -Ptestcontainers} (it needs the Testcontainers jars). */
    private static final String TESTCONTAINERS_CLASS =
            "dev.diffustream.infra.testing.TestcontainersCluster";

    private final String provider;
    private final LocalKafka kafka;
    private final AutoCloseable stopper;
    private final String bootstrap;
    private final String registryUrl;
    private final Admin admin;
    private final SchemaRegistry registry;

    private TestCluster(ClusterProvider.Running running) {
        this.provider = running.provider();
        this.kafka = running.localKafka();
        this.stopper = running.stopper();
        this.bootstrap = running.bootstrap();
        this.registryUrl = running.registryUrl();
        this.admin =
                Admin.create(
                        Map.of("bootstrap.servers", bootstrap, "client.id", "test-cluster-admin"));
        this.registry = new RestSchemaRegistry(registryUrl);
    }

    /**
     * The cluster of this JVM, started on the first call (a few seconds locally; with
     * Testcontainers, the first call may pull images).
     *
     * @throws org.opentest4j.TestAbortedException (a skipped test) with the {@code testcontainers}
     *     provider when no Docker engine is reachable; never with the default provider
     */
    public static synchronized TestCluster shared() {
        if (shared == null) {
            shared = new TestCluster(chooseProvider().start());
            TestCluster cluster = shared;
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(cluster::stop, "test-cluster-shutdown"));
        }
        return shared;
    }

    /**
     * The provider the settings ask for: {@code external} when both external addresses are set,
     * else {@code diffustream.test.cluster} ({@code DIFFUSTREAM_TEST_CLUSTER}), default {@code
     * local}.
     *
     * @throws IllegalStateException naming the valid providers for any other value
     */
    static String providerName() {
        if (setting("diffustream.test.bootstrap", "DIFFUSTREAM_TEST_BOOTSTRAP") != null
                && setting("diffustream.test.registry", "DIFFUSTREAM_TEST_REGISTRY") != null) {
            return EXTERNAL;
        }
        String name = setting(PROVIDER_PROPERTY, "DIFFUSTREAM_TEST_CLUSTER");
        name = name == null ? LOCAL : name.strip().toLowerCase(Locale.ROOT);
        if (!name.equals(LOCAL) && !name.equals(TESTCONTAINERS)) {
            throw new IllegalStateException(
                    PROVIDER_PROPERTY
                            + "='"
                            + name
                            + "' is not a test cluster provider; use '"
                            + LOCAL
                            + "' (default: local broker and registry stand-in) or '"
                            + TESTCONTAINERS
                            + "' (mvn -Ptestcontainers: Kafka and Confluent Schema Registry"
                            + " images)");
        }
        return name;
    }

    private static ClusterProvider chooseProvider() {
        switch (providerName()) {
            case EXTERNAL:
                String bootstrap =
                        setting("diffustream.test.bootstrap", "DIFFUSTREAM_TEST_BOOTSTRAP");
                String registry = setting("diffustream.test.registry", "DIFFUSTREAM_TEST_REGISTRY");
                return () -> {
                    LOG.info(
                            "test cluster: using external Kafka {} and registry {}",
                            bootstrap,
                            registry);
                    return new ClusterProvider.Running(
                            EXTERNAL, bootstrap, registry, null, () -> {});
                };
            case TESTCONTAINERS:
                return loadProvider(TESTCONTAINERS_CLASS);
            default:
                return TestCluster::startLocal;
        }
    }

    /** The provider class compiled only with a profile, or an error saying how to get it. */
    static ClusterProvider loadProvider(String className) {
        try {
            return (ClusterProvider)
                    Class.forName(className).getDeclaredConstructor().newInstance();
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            throw new IllegalStateException(
                    PROVIDER_PROPERTY
                            + "=testcontainers, but the Testcontainers provider ("
                            + className
                            + ") is not on the classpath: build with the profile, e.g. 'mvn"
                            + " -Ptestcontainers verify' at the repository root (it compiles the"
                            + " provider into infra and adds the Testcontainers jars to every"
                            + " module's tests)",
                    e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create " + className + ": " + e, e);
        }
    }

    private static ClusterProvider.Running startLocal() {
        long t0 = System.nanoTime();
        LocalKafka kafka = LocalKafka.builder().port(0).controllerPort(0).heap("512m").start();
        try {
            RegistryServer registry =
                    RegistryServer.builder().bootstrap(kafka.bootstrap()).port(0).start();
            LOG.info(
                    "test cluster: Kafka {} (ready in {} ms), registry {} (ready in {} ms), total {} ms",
                    kafka.bootstrap(),
                    kafka.startupTime().toMillis(),
                    registry.url(),
                    registry.startupTime().toMillis(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            return new ClusterProvider.Running(
                    LOCAL,
                    kafka.bootstrap(),
                    registry.url(),
                    kafka,
                    () -> {
                        registry.close();
                        kafka.close();
                    });
        } catch (RuntimeException e) {
            kafka.close();
            throw e;
        }
    }

    private static String setting(String property, String env) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? null : v;
    }

    private void stop() {
        admin.close(Duration.ofSeconds(2));
        try {
            stopper.close();
        } catch (Exception e) {
            LOG.warn("test cluster ({}) did not stop cleanly: {}", provider, e.toString());
        }
    }

    /**
     * Where this cluster comes from: {@code local}, {@code testcontainers} or {@code external} (see
     * the class comment).
     */
    public String provider() {
        return provider;
    }

    /** The broker's bootstrap address, {@code localhost:<port>}. */
    public String bootstrap() {
        return bootstrap;
    }

    /** The registry's base URL. */
    public String registryUrl() {
        return registryUrl;
    }

    /**
     * The local broker, or {@code null} when running against an external cluster or Testcontainers.
     */
    public LocalKafka localKafka() {
        return kafka;
    }

    /** A shared admin client (do not close it). */
    public Admin admin() {
        return admin;
    }

    /** A shared registry client (do not close it). */
    public SchemaRegistry registry() {
        return registry;
    }

    /**
     * A config for one test (class): this cluster's addresses and a fresh topic prefix {@code
     * <name>-<n>-<random>.}, 2 partitions, replication factor 1.
     */
    public KafkaConfig newKafkaConfig(String name) {
        return newKafkaConfig(name, 2);
    }

    /** Like {@link #newKafkaConfig(String)} with a partition count. */
    public KafkaConfig newKafkaConfig(String name, int partitions) {
        return new KafkaConfig(
                bootstrap, registryUrl, "", newPrefix(name), partitions, (short) 1, Map.of());
    }

    /** A fresh topic prefix, {@code <name>-<n>-<random>.}. */
    public static String newPrefix(String name) {
        String clean = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-");
        String random =
                Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
        return clean + "-" + PREFIXES.incrementAndGet() + "-" + random + ".";
    }

    /** Typed topics of a config, with serdes on this cluster's registry. */
    public Topics topics(KafkaConfig config) {
        return new Topics(config.topicPrefix(), registry);
    }

    /** Creates every topic of {@link Topics#ALL} under the config's prefix. */
    public TopicBootstrap.Result createTopics(KafkaConfig config) {
        return TopicBootstrap.ensure(admin, config, TIMEOUT);
    }

    /** Creates one topic (e.g. a test's own input or output). */
    public void createTopic(String name, int partitions, Map<String, String> configs) {
        try {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)))
                    .all()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                throw new IllegalStateException(
                        "cannot create topic " + name + ": " + e.getCause(), e.getCause());
            }
        } catch (TimeoutException | InterruptedException e) {
            throw new IllegalStateException("cannot create topic " + name + ": " + e, e);
        }
    }

    /** A raw producer (byte[] keys and values) for a config; close it. */
    public KafkaProducer<byte[], byte[]> producer(KafkaConfig config) {
        return new KafkaProducer<>(Clients.producer(config, "test-producer"));
    }

    /** Sends raw records and waits until all are acknowledged. */
    public void produce(KafkaConfig config, List<ProducerRecord<byte[], byte[]>> records) {
        try (KafkaProducer<byte[], byte[]> producer = producer(config)) {
            List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
            for (ProducerRecord<byte[], byte[]> r : records) {
                acks.add(producer.send(r));
            }
            for (java.util.concurrent.Future<?> ack : acks) {
                ack.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            throw new IllegalStateException("cannot produce test records: " + e, e);
        }
    }

    /**
     * Reads a topic from the beginning (committed records only, no consumer group) until {@code
     * count} records arrived or {@code timeout} passed; returns what arrived.
     */
    public List<ConsumerRecord<byte[], byte[]>> consume(
            KafkaConfig config, String topic, int count, Duration timeout) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(Clients.consumer(config, "test-consumer", null))) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic, TIMEOUT)) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(out::add);
            }
        }
        return out;
    }
}

package dev.diffustream.infra.testing;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The {@code testcontainers} provider of {@link TestCluster}: a single-node KRaft broker from the
 * {@code apache/kafka} image and the real Confluent Schema Registry ({@code
 * confluentinc/cp-schema-registry}) on one Docker network, so the integration suite proves our
 * client and serde against the real registry.
 *
 * <p>Compiled only with {@code -Ptestcontainers} (see infra/pom.xml): the default build needs
 * neither Docker nor the Testcontainers jars. Where no Docker engine is reachable, {@link #start()}
 * throws a JUnit assumption failure, so the tests asking for the cluster are reported as skipped
 * with the reason; it never falls back silently to another cluster.
 *
 * <p>Images: system properties {@code diffustream.test.kafkaImage} and {@code
 * diffustream.test.registryImage} (defaults {@value #KAFKA_IMAGE} and {@value #REGISTRY_IMAGE}).
 */
final class TestcontainersCluster implements ClusterProvider {
    private static final Logger LOG = LoggerFactory.getLogger(TestcontainersCluster.class);

    static final String KAFKA_IMAGE = "apache/kafka:4.4.0";
    static final String REGISTRY_IMAGE = "confluentinc/cp-schema-registry:8.1.1";

    /** The broker's name and listener on the containers' network (for the registry). */
    private static final String KAFKA_ALIAS = "kafka";

    private static final String INTERNAL_LISTENER = KAFKA_ALIAS + ":19092";
    private static final int REGISTRY_PORT = 8081;

    /** Whether Docker answered, asked once per JVM (the probe can take seconds). */
    private static Boolean dockerAvailable;

    private static String dockerProblem = "";

    @Override
    public Running start() {
        Assumptions.assumeTrue(dockerAvailable(), TestcontainersCluster::skipNotice);
        String kafkaImage = System.getProperty("diffustream.test.kafkaImage", KAFKA_IMAGE);
        String registryImage = System.getProperty("diffustream.test.registryImage", REGISTRY_IMAGE);
        long t0 = System.nanoTime();
        Network network = Network.newNetwork();
        KafkaContainer kafka =
                new KafkaContainer(DockerImageName.parse(kafkaImage))
                        .withNetwork(network)
                        .withListener(INTERNAL_LISTENER)
                        .withEnv(
                                Map.of(
                                        // Like the local broker: tests create their topics.
                                        "KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false",
                                        // One node: internal share-group state cannot have 3
                                        // replicas.
                                        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
                                                "1",
                                        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1"))
                        .withStartupTimeout(Duration.ofMinutes(3));
        GenericContainer<?> registry =
                new GenericContainer<>(DockerImageName.parse(registryImage))
                        .withNetwork(network)
                        .withNetworkAliases("schema-registry")
                        .withExposedPorts(REGISTRY_PORT)
                        .withEnv("SCHEMA_REGISTRY_HOST_NAME", "schema-registry")
                        .withEnv("SCHEMA_REGISTRY_LISTENERS", "http://0.0.0.0:" + REGISTRY_PORT)
                        .withEnv(
                                "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS",
                                "PLAINTEXT://" + INTERNAL_LISTENER)
                        // One broker: the _schemas topic gets one replica.
                        .withEnv("SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR", "1")
                        .dependsOn(kafka)
                        .waitingFor(Wait.forHttp("/subjects").forStatusCode(200))
                        .withStartupTimeout(Duration.ofMinutes(3));
        try {
            kafka.start();
            registry.start();
        } catch (RuntimeException e) {
            registry.stop();
            kafka.stop();
            network.close();
            throw new IllegalStateException(
                    "Testcontainers could not start "
                            + kafkaImage
                            + " and "
                            + registryImage
                            + ": "
                            + e.getMessage(),
                    e);
        }
        String registryUrl =
                "http://" + registry.getHost() + ":" + registry.getMappedPort(REGISTRY_PORT);
        LOG.info(
                "test cluster (Testcontainers): Kafka {} ({}), Schema Registry {} ({}), ready in {}"
                        + " ms",
                kafka.getBootstrapServers(),
                kafkaImage,
                registryUrl,
                registryImage,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        return new Running(
                TestCluster.TESTCONTAINERS,
                kafka.getBootstrapServers(),
                registryUrl,
                null,
                () -> {
                    registry.stop();
                    kafka.stop();
                    network.close();
                });
    }

    private static synchronized boolean dockerAvailable() {
        if (dockerAvailable == null) {
            try {
                dockerAvailable = DockerClientFactory.instance().isDockerAvailable();
                if (!dockerAvailable) {
                    dockerProblem = "Testcontainers found no Docker environment";
                }
            } catch (RuntimeException | LinkageError e) {
                dockerAvailable = false;
                dockerProblem = e.toString();
            }
            if (!dockerAvailable) {
                // Once per JVM, on the console of the build: why the cluster's tests are skipped.
                LOG.warn(skipNotice());
                System.err.println("[diffustream] " + skipNotice());
            }
        }
        return dockerAvailable;
    }

    private static String skipNotice() {
        return "SKIPPED: the Testcontainers test cluster (-Ptestcontainers, "
                + TestCluster.PROVIDER_PROPERTY
                + "=testcontainers) needs a Docker engine, and none is reachable here ("
                + dockerProblem
                + "). Tests that use TestCluster are skipped; build without -Ptestcontainers to run"
                + " them on the local broker and registry stand-in.";
    }
}

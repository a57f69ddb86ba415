package dev.diffustream.cli;

import dev.diffustream.infra.LocalKafka;
import dev.diffustream.infra.registry.RegistryServer;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The Kafka cluster and registry holding a recorded run, for {@code replay} and {@code rescore}:
 *
 * <ol>
 *   <li>the addresses given on the command line ({@code --bootstrap}/{@code --registry}, {@code
 *       --set kafka.*}, {@code DIFFUSTREAM_KAFKA_*});
 *   <li>else the run's recorded broker, if it still answers and holds the run's topics (a local run
 *       that is still going);
 *   <li>else the run's kept broker data ({@code DIR/kafka}, which local mode keeps unless {@code
 *       --discard-kafka}): a local broker is started on it with a registry stand-in, whose schemas
 *       come back from the {@code _diffustream_schemas} topic in that data. Both stop on {@link
 *       #close()}; the data stays.
 * </ol>
 */
final class ReplayCluster implements AutoCloseable {

    private final KafkaConfig kafka;
    private final LocalKafka broker;
    private final RegistryServer registry;

    private ReplayCluster(KafkaConfig kafka, LocalKafka broker, RegistryServer registry) {
        this.kafka = kafka;
        this.broker = broker;
        this.registry = registry;
    }

    /** The cluster of {@code run}; {@code tool} names the command in messages. */
    static ReplayCluster connect(ReplayRun run, String tool, PrintWriter err) {
        KafkaConfig recorded = run.recipe().kafka();
        String steps = Topics.TRAIN_STEPS.name(recorded.topicPrefix());
        if (run.explicitKafka()) {
            requireTopic(recorded, steps, tool);
            return new ReplayCluster(recorded, null, null);
        }
        if (answers(recorded.bootstrap())) {
            try (KafkaAccess access = new KafkaAccess(recorded, Duration.ofSeconds(5))) {
                if (access.topicNames().contains(steps)) {
                    say(err, tool, "using the run's broker at %s", recorded.bootstrap());
                    return new ReplayCluster(recorded, null, null);
                }
            } catch (CliException e) {
                // something else answers there: fall back to the kept data
            }
        }
        Path data = run.kafkaDataDir();
        if (!Files.isRegularFile(data.resolve("kafka-logs").resolve("meta.properties"))) {
            throw new CliException(
                    "the run's broker at "
                            + recorded.bootstrap()
                            + " is not reachable and "
                            + data
                            + " holds no broker data (local runs keep it unless"
                            + " --discard-kafka). Pass the cluster's --bootstrap and --registry.");
        }
        long t0 = System.nanoTime();
        LocalKafka broker =
                LocalKafka.builder().port(0).dataDir(data).keepData(true).heap("512m").start();
        RegistryServer registry;
        try {
            registry = RegistryServer.builder().bootstrap(broker.bootstrap()).port(0).start();
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
        KafkaConfig kafka = recorded.withAddresses(broker.bootstrap(), registry.url());
        say(
                err,
                tool,
                "started the run's broker from %s on %s (registry %s) in %.1f s",
                data,
                broker.bootstrap(),
                registry.url(),
                (System.nanoTime() - t0) / 1e9);
        ReplayCluster cluster = new ReplayCluster(kafka, broker, registry);
        try {
            requireTopic(kafka, steps, tool);
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private static void requireTopic(KafkaConfig kafka, String topic, String tool) {
        try (KafkaAccess access = new KafkaAccess(kafka, Duration.ofSeconds(15))) {
            if (!access.topicNames().contains(topic)) {
                throw new CliException(
                        tool
                                + ": topic '"
                                + topic
                                + "' does not exist on "
                                + kafka.bootstrap()
                                + "; check --prefix / kafka.topicPrefix (the run's is '"
                                + kafka.topicPrefix()
                                + "')");
            }
        }
    }

    /** Whether something accepts TCP connections at one of the bootstrap addresses. */
    static boolean answers(String bootstrap) {
        for (String hp : bootstrap.split(",")) {
            int colon = hp.lastIndexOf(':');
            if (colon <= 0) {
                continue;
            }
            try (Socket s = new Socket()) {
                s.connect(
                        new InetSocketAddress(
                                hp.substring(0, colon).strip(),
                                Integer.parseInt(hp.substring(colon + 1).strip())),
                        500);
                return true;
            } catch (IOException | RuntimeException e) {
                // next address
            }
        }
        return false;
    }

    private static void say(PrintWriter err, String tool, String format, Object... args) {
        err.println(tool + ": " + String.format(Locale.ROOT, format, args));
        err.flush();
    }

    /** Bootstrap, registry and prefix to use. */
    KafkaConfig kafka() {
        return kafka;
    }

    /** Whether this tool started the broker (from the run's kept data). */
    boolean startedBroker() {
        return broker != null;
    }

    @Override
    public void close() {
        if (registry != null) {
            registry.close();
        }
        if (broker != null) {
            broker.close();
        }
    }
}

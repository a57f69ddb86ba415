package dev.diffustream.cli;

import dev.diffustream.infra.LocalKafka;
import dev.diffustream.infra.LocalKafkaException;
import dev.diffustream.infra.TopicBootstrap;
import dev.diffustream.infra.registry.RegistryServer;
import dev.diffustream.schemas.config.KafkaConfig;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code diffustream infra}: a local Kafka broker, the registry stand-in and the run's topics,
 * until interrupted. Prints {@code bootstrap=HOST:PORT} and {@code registry=URL} on their own lines
 * on standard output once everything is ready.
 */
@Command(
        name = "infra",
        description = {
            "Starts a local Kafka broker (KRaft, child JVM), the schema-registry stand-in and the run's topics;"
                    + " prints bootstrap=HOST:PORT and registry=URL when ready; runs until interrupted.",
            "Ports default to those of kafka.bootstrap and kafka.registry (9092 and 8081), so other commands"
                    + " with the same recipe find it."
        })
final class InfraCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--data-dir",
            paramLabel = "DIR",
            description =
                    "Broker data directory; kept on exit, reused on the next start (topics, records and schema ids survive). Default: a temporary directory deleted on exit.")
    Path dataDir;

    @Option(
            names = "--keep-data",
            description = "Keep the temporary data directory on exit (its path is printed).")
    boolean keepData;

    @Option(
            names = "--kafka-port",
            paramLabel = "PORT",
            description =
                    "Kafka client port (0: a free one). Default: the port of kafka.bootstrap.")
    Integer kafkaPort;

    @Option(
            names = "--controller-port",
            paramLabel = "PORT",
            defaultValue = "0",
            description = "KRaft controller port (default 0: a free one).")
    int controllerPort;

    @Option(
            names = "--registry-port",
            paramLabel = "PORT",
            description = "Registry port (0: a free one). Default: the port of kafka.registry.")
    Integer registryPort;

    @Option(
            names = "--heap",
            defaultValue = "512m",
            description = "Maximum heap of the broker JVM (default ${DEFAULT-VALUE}).")
    String heap;

    @Option(names = "--no-topics", description = "Do not create the run's topics.")
    boolean noTopics;

    /** What {@link #start} started; closing stops it all (registry first, then the broker). */
    record Running(
            LocalKafka kafka,
            RegistryServer registry,
            KafkaConfig config,
            TopicBootstrap.Result topics)
            implements AutoCloseable {
        @Override
        public void close() {
            registry.close();
            kafka.close();
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        KafkaConfig recipe = Main.of(spec).recipe().kafka();
        Running running = start(recipe);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    running.close();
                                    err.println(
                                            "diffustream infra: stopped"
                                                    + (running.kafka().dataDir().toFile().exists()
                                                            ? "; data kept in "
                                                                    + running.kafka().dataDir()
                                                            : ""));
                                    err.flush();
                                    stopped.countDown();
                                },
                                "infra-shutdown"));
        out.println("bootstrap=" + running.kafka().bootstrap());
        out.println("registry=" + running.registry().url());
        out.flush();
        err.printf(
                "diffustream infra: Kafka ready in %d ms (pid %d, data %s), registry in %d ms (store %s), %s. Ctrl-C to stop.%n",
                running.kafka().startupTime().toMillis(),
                running.kafka().pid(),
                running.kafka().dataDir(),
                running.registry().startupTime().toMillis(),
                running.registry().store(),
                running.topics() == null
                        ? "no topics created"
                        : running.topics().created().size()
                                + " topic(s) created, "
                                + running.topics().existing().size()
                                + " already there"
                                + (running.config().topicPrefix().isEmpty()
                                        ? ""
                                        : " (prefix '" + running.config().topicPrefix() + "')"));
        err.flush();
        stopped.await(); // the JVM exits through the shutdown hook (SIGINT/SIGTERM)
        return 0;
    }

    /** Starts the broker, the registry and the topics of {@code recipe}'s run. */
    Running start(KafkaConfig recipe) {
        LocalKafka.Builder builder =
                LocalKafka.builder()
                        .port(kafkaPort != null ? kafkaPort : portOf(recipe.bootstrap(), 9092))
                        .controllerPort(controllerPort)
                        .heap(heap);
        if (dataDir != null) {
            builder.dataDir(dataDir);
        }
        if (keepData) {
            builder.keepData(true);
        }
        LocalKafka kafka;
        try {
            kafka = builder.start();
        } catch (LocalKafkaException e) {
            String hint =
                    e.getMessage().contains("in use")
                            ? " (options --kafka-port, --controller-port)"
                            : "";
            throw new CliException(e.getMessage() + hint, e);
        }
        RegistryServer registry = null;
        try {
            KafkaConfig local = recipe.withAddresses(kafka.bootstrap(), recipe.registry());
            int port = registryPort != null ? registryPort : portOf(recipe.registry(), 8081);
            try {
                registry = RegistryServer.builder().kafka(local).port(port).start();
            } catch (IllegalStateException e) {
                String hint =
                        e.getMessage().contains("cannot listen") ? " (option --registry-port)" : "";
                throw new CliException(e.getMessage() + hint, e);
            }
            KafkaConfig config = recipe.withAddresses(kafka.bootstrap(), registry.url());
            TopicBootstrap.Result topics = null;
            if (!noTopics) {
                try (Admin admin =
                        Admin.create(
                                Map.of(
                                        "bootstrap.servers",
                                        kafka.bootstrap(),
                                        "client.id",
                                        "diffustream-infra"))) {
                    topics = TopicBootstrap.ensure(admin, config, Duration.ofSeconds(30));
                }
            }
            return new Running(kafka, registry, config, topics);
        } catch (RuntimeException e) {
            if (registry != null) {
                registry.close();
            }
            kafka.close();
            throw e;
        }
    }

    /** The port of {@code host:port[,...]} or of a URL; {@code fallback} if there is none. */
    static int portOf(String address, int fallback) {
        try {
            if (address.contains("://")) {
                int p = URI.create(address).getPort();
                return p > 0 ? p : fallback;
            }
            String first = address.split(",")[0].strip();
            int colon = first.lastIndexOf(':');
            return colon < 0 ? fallback : Integer.parseInt(first.substring(colon + 1));
        } catch (RuntimeException e) {
            return fallback;
        }
    }
}

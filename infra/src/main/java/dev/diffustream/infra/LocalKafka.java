package dev.diffustream.infra;

import dev.diffustream.infra.broker.BrokerJvm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker in KRaft mode (combined broker and controller), run as a child
 * JVM ({@code kafka.Kafka} from {@code kafka_2.13}) with its own data directory.
 *
 * <pre>{@code
 * try (LocalKafka kafka = LocalKafka.builder().port(0).start()) {
 *     String bootstrap = kafka.bootstrap(); // "localhost:41234"
 * }
 * }</pre>
 *
 * <p>{@link Builder#start()} formats the storage, launches the broker and returns once a real
 * AdminClient call succeeds. {@link #close()} sends SIGTERM, waits, then kills. The broker never
 * outlives this JVM: a shutdown hook closes it, and the child itself exits when this process dies
 * (even on {@code kill -9}; see {@code BrokerLauncher}).
 */
public final class LocalKafka implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalKafka.class);

    /** The broker answers SIGTERM in about two seconds; more means it is stuck. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    private final Path dataDir;
    private final boolean deleteOnClose;
    private final int port;
    private final int controllerPort;
    private final Process process;
    private final BrokerJvm jvm;
    private final Path logFile;
    private final Duration startupTime;
    private final Thread shutdownHook;
    private boolean closed;

    private LocalKafka(
            Path dataDir,
            boolean deleteOnClose,
            int port,
            int controllerPort,
            Process process,
            BrokerJvm jvm,
            Path logFile,
            Duration startupTime,
            Thread shutdownHook) {
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.port = port;
        this.controllerPort = controllerPort;
        this.process = process;
        this.jvm = jvm;
        this.logFile = logFile;
        this.startupTime = startupTime;
        this.shutdownHook = shutdownHook;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code localhost:<port>}: the bootstrap address clients use. */
    public String bootstrap() {
        return "localhost:" + port;
    }

    /** The client (PLAINTEXT) port. */
    public int port() {
        return port;
    }

    /** The controller port (internal). */
    public int controllerPort() {
        return controllerPort;
    }

    /** PID of the broker's JVM. */
    public long pid() {
        return process.pid();
    }

    /** The broker's data directory (storage, {@code server.properties}, log). */
    public Path dataDir() {
        return dataDir;
    }

    /** The broker's own log (its standard output and error). */
    public Path logFile() {
        return logFile;
    }

    /** From launch to the first successful AdminClient call. */
    public Duration startupTime() {
        return startupTime;
    }

    /** Whether this start reused a class-data-sharing archive (faster start). */
    public boolean usedSharedArchive() {
        return jvm.usesSharedArchive();
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** Stops the broker (SIGTERM, then a kill after 30 s) and deletes temporary data. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stop(process, jvm);
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook is what called us.
        }
        if (deleteOnClose) {
            deleteRecursively(dataDir);
        }
    }

    private static void stop(Process process, BrokerJvm jvm) {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM: Kafka's shutdown hook stops the broker cleanly
            try {
                if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn(
                            "broker {} did not stop within {}; killing it",
                            process.pid(),
                            STOP_GRACE);
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        jvm.childExited();
    }

    /** Options of a local broker. */
    public static final class Builder {
        private Path dataDir;
        private Boolean keepData;
        private int port;
        private int controllerPort;
        private String heap = "512m";
        private Duration startTimeout = Duration.ofSeconds(60);
        private boolean classDataSharing = true;
        private boolean fastStartup = true;
        private final Map<String, String> overrides = new LinkedHashMap<>();

        private Builder() {}

        /**
         * The data directory; reused if it holds a formatted broker (topics and data survive).
         * Default: a fresh temporary directory.
         */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /**
         * Whether to keep the data directory on close. Default: keep an explicit {@link #dataDir},
         * delete a temporary one.
         */
        public Builder keepData(boolean keep) {
            this.keepData = keep;
            return this;
        }

        /** The client port; 0 (default) picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** The controller port; 0 (default) picks a free one. */
        public Builder controllerPort(int port) {
            this.controllerPort = port;
            return this;
        }

        /** Maximum heap of the broker JVM, e.g. {@code 512m} (default). */
        public Builder heap(String heap) {
            this.heap = heap;
            return this;
        }

        /** How long to wait for readiness (default 60 s). */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** Use (and create) a class-data-sharing archive for a faster start (default on). */
        public Builder classDataSharing(boolean on) {
            this.classDataSharing = on;
            return this;
        }

        /**
         * C1-only JIT for a faster start (default on); turn off for benchmarks that load the
         * broker.
         */
        public Builder fastStartup(boolean on) {
            this.fastStartup = on;
            return this;
        }

        /** A broker setting added to (or replacing one of) the single-node defaults. */
        public Builder brokerConfig(String key, String value) {
            overrides.put(key, value);
            return this;
        }

        /**
         * Formats the storage, starts the broker and waits until an AdminClient call succeeds.
         *
         * @throws LocalKafkaException naming what to check (ports, the broker log) if the broker
         *     exits or is not ready in time
         */
        public LocalKafka start() {
            boolean temporary = dataDir == null;
            Path dir;
            try {
                dir =
                        temporary
                                ? Files.createTempDirectory("diffustream-kafka-")
                                : dataDir.toAbsolutePath();
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new LocalKafkaException("cannot create the broker data directory: " + e, e);
            }
            boolean delete = keepData == null ? temporary : !keepData;
            // A port we picked can be taken between our probe and the broker's bind: retry then.
            LocalKafkaException last = null;
            for (int attempt = 1; attempt <= 3; attempt++) {
                try {
                    return startOnce(dir, delete);
                } catch (PortTaken e) {
                    last = e;
                    if (!e.picked) {
                        break;
                    }
                    LOG.debug("port taken during start-up, retrying: {}", e.getMessage());
                } catch (LocalKafkaException e) {
                    last = e;
                    boolean allPicked = port == 0 && controllerPort == 0;
                    if (!allPicked || !e.getMessage().contains("Address already in use")) {
                        break;
                    }
                    LOG.debug("port taken during start-up, retrying: {}", e.getMessage());
                }
            }
            if (delete) {
                // Keep only the broker log of a failed start: the error message points at it.
                deleteRecursively(dir.resolve("kafka-logs"));
                if (!Files.exists(dir.resolve("broker.log"))) {
                    deleteRecursively(dir);
                }
            }
            throw last;
        }

        private LocalKafka startOnce(Path dir, boolean delete) {
            int p = port == 0 ? freePort() : port;
            int cp = controllerPort == 0 ? freePort(p) : controllerPort;
            requireFree(p, "client port", port == 0);
            requireFree(cp, "controller port", controllerPort == 0);
            Path logDirs = dir.resolve("kafka-logs");
            Path config = dir.resolve("server.properties");
            Path logback = dir.resolve("broker-logback.xml");
            Path log = dir.resolve("broker.log");
            try {
                Files.createDirectories(logDirs);
                Files.writeString(config, serverProperties(p, cp, logDirs), StandardCharsets.UTF_8);
                Files.writeString(logback, LOGBACK, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new LocalKafkaException(
                        "cannot write the broker configuration into " + dir + ": " + e, e);
            }

            BrokerJvm jvm = BrokerJvm.prepare(classDataSharing);
            List<String> cmd = new ArrayList<>(jvm.command(heap, fastStartup, logback, dir));
            cmd.add(Long.toString(ProcessHandle.current().pid()));
            cmd.add(config.toString());
            boolean formatted = Files.isRegularFile(logDirs.resolve("meta.properties"));
            cmd.add(formatted ? "-" : Uuid.randomUuid().toString());
            cmd.add(delete ? dir.toString() : "-");

            long t0 = System.nanoTime();
            Process process;
            try {
                process =
                        new ProcessBuilder(cmd)
                                .directory(dir.toFile())
                                .redirectErrorStream(true)
                                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                                // stdin stays a pipe: the child exits when it closes (our death)
                                .redirectInput(ProcessBuilder.Redirect.PIPE)
                                .start();
            } catch (IOException e) {
                throw new LocalKafkaException(
                        "cannot launch the broker JVM (" + cmd.get(0) + "): " + e, e);
            }
            Thread hook =
                    new Thread(() -> stop(process, jvm), "local-kafka-shutdown-" + process.pid());
            Runtime.getRuntime().addShutdownHook(hook);
            LOG.debug(
                    "broker pid {} starting on localhost:{} (controller {}), data {}",
                    process.pid(),
                    p,
                    cp,
                    dir);
            try {
                awaitReady(process, p, cp, log);
            } catch (RuntimeException e) {
                stop(process, jvm);
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException ignored) {
                    // shutting down
                }
                throw e;
            }
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            LOG.debug(
                    "broker ready on localhost:{} in {} ms (shared archive: {})",
                    p,
                    took.toMillis(),
                    jvm.usesSharedArchive());
            return new LocalKafka(dir, delete, p, cp, process, jvm, log, took, hook);
        }

        private String serverProperties(int p, int cp, Path logDirs) {
            Map<String, String> props = new LinkedHashMap<>();
            props.put("process.roles", "broker,controller");
            props.put("node.id", "1");
            // A static one-voter quorum: the controller port may change between restarts of a
            // reused data directory (a dynamic quorum would remember the old endpoint).
            props.put("controller.quorum.voters", "1@localhost:" + cp);
            props.put("listeners", "PLAINTEXT://localhost:" + p + ",CONTROLLER://localhost:" + cp);
            props.put("advertised.listeners", "PLAINTEXT://localhost:" + p);
            props.put("controller.listener.names", "CONTROLLER");
            props.put("inter.broker.listener.name", "PLAINTEXT");
            props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
            props.put("log.dirs", logDirs.toString());
            // One node: every internal topic has one replica.
            props.put("offsets.topic.replication.factor", "1");
            props.put("transaction.state.log.replication.factor", "1");
            props.put("transaction.state.log.min.isr", "1");
            props.put("share.coordinator.state.topic.replication.factor", "1");
            props.put("share.coordinator.state.topic.min.isr", "1");
            // 50 partitions each (the default) make the first group and transaction slow to start.
            props.put("offsets.topic.num.partitions", "4");
            props.put("transaction.state.log.num.partitions", "4");
            props.put("share.coordinator.state.topic.num.partitions", "1");
            // Tests and local runs start consumers one after another; do not wait 3 s for more.
            props.put("group.initial.rebalance.delay.ms", "0");
            // Topics come from the topic bootstrap; a typo must fail, not create a topic.
            props.put("auto.create.topics.enable", "false");
            // Two cores: fewer threads start faster and compete less.
            props.put("num.network.threads", "2");
            props.put("num.io.threads", "2");
            props.put("num.recovery.threads.per.data.dir", "1");
            props.put("background.threads", "2");
            props.putAll(overrides);
            StringBuilder sb = new StringBuilder("# written by diffustream LocalKafka\n");
            props.forEach(
                    (k, v) ->
                            sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
            return sb.toString();
        }

        private void awaitReady(Process process, int p, int cp, Path log) {
            long deadline = System.nanoTime() + startTimeout.toNanos();
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:" + p);
            // Poll quickly: the broker is local and starting.
            props.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "50");
            props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
            props.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "1000");
            props.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "1000");
            props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
            props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000");
            // Wait for the port first: an AdminClient would log a warning for every refused try.
            while (!accepts(p)) {
                if (!process.isAlive()) {
                    throw failure(
                            "the broker JVM exited with code "
                                    + exitCode(process)
                                    + " during start-up",
                            p,
                            cp,
                            log);
                }
                if (System.nanoTime() > deadline) {
                    throw failure(
                            "the broker did not open port "
                                    + p
                                    + " within "
                                    + startTimeout.toSeconds()
                                    + " s",
                            p,
                            cp,
                            log);
                }
                sleep(50);
            }
            try (Admin admin = Admin.create(props)) {
                while (true) {
                    if (!process.isAlive()) {
                        throw failure(
                                "the broker JVM exited with code "
                                        + exitCode(process)
                                        + " during start-up",
                                p,
                                cp,
                                log);
                    }
                    try {
                        int nodes =
                                admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000))
                                        .nodes()
                                        .get(3, TimeUnit.SECONDS)
                                        .size();
                        if (nodes > 0) {
                            return;
                        }
                    } catch (ExecutionException | TimeoutException e) {
                        // not ready yet
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new LocalKafkaException(
                                "interrupted while waiting for the broker", e);
                    }
                    if (System.nanoTime() > deadline) {
                        throw failure(
                                "the broker did not answer within "
                                        + startTimeout.toSeconds()
                                        + " s",
                                p,
                                cp,
                                log);
                    }
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new LocalKafkaException(
                                "interrupted while waiting for the broker", e);
                    }
                }
            }
        }

        private static LocalKafkaException failure(String what, int p, int cp, Path log) {
            String tail = BrokerJvm.tail(log, 25);
            return new LocalKafkaException(
                    "local Kafka broker at localhost:"
                            + p
                            + " failed to start: "
                            + what
                            + ". Check that ports "
                            + p
                            + " and "
                            + cp
                            + " are free, that there is memory for a "
                            + "JVM, and the broker log "
                            + log
                            + (tail.isEmpty() ? "" : "; its last lines:\n" + tail));
        }
    }

    private static boolean accepts(int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalKafkaException("interrupted while waiting for the broker", e);
        }
    }

    private static String exitCode(Process process) {
        try {
            return Integer.toString(process.exitValue());
        } catch (IllegalThreadStateException e) {
            return "?";
        }
    }

    /** A port that was free a moment ago on the loopback interface. */
    static int freePort(int... avoid) {
        for (int i = 0; i < 20; i++) {
            try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
                int candidate = s.getLocalPort();
                boolean clash = false;
                for (int a : avoid) {
                    clash |= a == candidate;
                }
                if (!clash) {
                    return candidate;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot find a free port", e);
            }
        }
        throw new IllegalStateException("cannot find a free port");
    }

    private static void requireFree(int port, String what, boolean picked) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new PortTaken(
                    picked,
                    "cannot start the local Kafka broker: "
                            + what
                            + " "
                            + port
                            + " is in use (Address already in use). Stop what uses it or pick another"
                            + " port (0 picks a free one).",
                    e);
        }
    }

    /** A port is in use; {@code picked} if we chose it (so another free one may be tried). */
    private static final class PortTaken extends LocalKafkaException {
        private static final long serialVersionUID = 1L;
        private final boolean picked;

        PortTaken(boolean picked, String message, Throwable cause) {
            super(message, cause);
            this.picked = picked;
        }
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.debug("cannot delete {}: {}", dir, e.toString());
        }
    }

    /** Logs of the broker JVM: warnings, plus the lines that say it started and stopped. */
    private static final String LOGBACK =
            """
            <configuration>
              <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
              </appender>
              <logger name="kafka.server.KafkaRaftServer" level="INFO"/>
              <logger name="kafka.Kafka" level="INFO"/>
              <root level="WARN"><appender-ref ref="OUT"/></root>
            </configuration>
            """;
}

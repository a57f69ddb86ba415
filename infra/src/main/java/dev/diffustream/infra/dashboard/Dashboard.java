package dev.diffustream.infra.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.SchemaRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live dashboard of a run: follows the run's topics from the beginning (read_committed, its own
 * consumer, no consumer group), keeps a bounded in-memory {@link RunModel}, polls the services'
 * consumer-group lag with an Admin client, and serves one page plus {@code GET /api/state} (the
 * {@link DashboardState} as JSON) over HTTP. The page is static HTML/CSS/JS from this jar; it loads
 * nothing from anywhere else (a Content-Security-Policy of {@code 'self'} enforces it).
 *
 * <pre>{@code
 * try (Dashboard d = Dashboard.builder().kafka(kafka).runId("local")
 *         .watch(new WatchedGroup("learner", "learner-local", List.of("advantages")))
 *         .port(8090).build().start()) {
 *     System.out.println(d.url());   // http://localhost:8090/
 * }
 * }</pre>
 */
public final class Dashboard implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Dashboard.class);

    private static final Map<String, Asset> ASSETS =
            Map.of(
                    "/", new Asset("index.html", "text/html; charset=utf-8"),
                    "/index.html", new Asset("index.html", "text/html; charset=utf-8"),
                    "/dashboard.css", new Asset("dashboard.css", "text/css; charset=utf-8"),
                    "/dashboard.js", new Asset("dashboard.js", "text/javascript; charset=utf-8"));

    /** Nothing but our own origin: no CDN, no network beyond this server. */
    static final String CONTENT_SECURITY_POLICY =
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none';"
                    + " frame-ancestors 'none'";

    private record Asset(String resource, String contentType) {}

    private final KafkaConfig kafka;
    private final String runId;
    private final List<WatchedGroup> groups;
    private final String host;
    private final int port;
    private final Duration lagInterval;
    private final SchemaRegistry registry;
    private final boolean ownsRegistry;
    private final RunModel model;
    private final ObjectMapper json = new ObjectMapper();

    private HttpServer server;
    private ExecutorService httpThreads;
    private RunFollower follower;
    private Thread followerThread;
    private LagProbe lagProbe;
    private ScheduledExecutorService lagThread;

    private Dashboard(Builder b) {
        this.kafka = b.kafka;
        this.runId = b.runId;
        this.groups = List.copyOf(b.groups);
        this.host = b.host;
        this.port = b.port;
        this.lagInterval = b.lagInterval;
        this.ownsRegistry = b.registry == null;
        this.registry = b.registry != null ? b.registry : Clients.registry(kafka);
        this.model = new RunModel(runId, kafka.topicPrefix(), b.clock, RunModel.Limits.defaults());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts following the run and serving the page; returns this. */
    public synchronized Dashboard start() {
        if (server != null) {
            throw new IllegalStateException("dashboard already started at " + url());
        }
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "dashboard: cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        AtomicInteger n = new AtomicInteger();
        httpThreads =
                Executors.newFixedThreadPool(
                        2,
                        r -> {
                            Thread t = new Thread(r, "dashboard-http-" + n.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        server.setExecutor(httpThreads);
        server.createContext("/", this::handle);

        Topics topics = new Topics(kafka.topicPrefix(), registry);
        follower = new RunFollower(kafka, topics, model, "diffustream-dashboard-" + runId);
        followerThread = new Thread(follower, "dashboard-follower");
        followerThread.setDaemon(true);
        followerThread.start();

        lagProbe = new LagProbe(kafka, groups, "diffustream-dashboard-lag-" + runId, lagInterval);
        lagThread =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "dashboard-lag");
                            t.setDaemon(true);
                            return t;
                        });
        lagThread.scheduleWithFixedDelay(
                this::probeLag, 0, lagInterval.toMillis(), TimeUnit.MILLISECONDS);

        server.start();
        LOG.info("dashboard: run '{}' at {}", runId, url());
        return this;
    }

    private void probeLag() {
        try {
            model.onLag(lagProbe.probe(), System.currentTimeMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            model.onLagError(cause.getClass().getSimpleName() + ": " + cause.getMessage());
            LOG.debug("dashboard: lag probe failed: {}", cause.toString());
        }
    }

    /** The page's address, e.g. {@code http://localhost:8090/}. */
    public synchronized URI url() {
        if (server == null) {
            throw new IllegalStateException("dashboard not started");
        }
        String h = host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
        if (h.contains(":")) {
            h = "[" + h + "]";
        }
        return URI.create("http://" + h + ":" + server.getAddress().getPort() + "/");
    }

    /** The current snapshot (what {@code /api/state} serves). */
    public DashboardState state() {
        return model.snapshot();
    }

    /** The groups whose lag is shown. */
    public List<WatchedGroup> watchedGroups() {
        return groups;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            boolean head = "HEAD".equals(method);
            if (!"GET".equals(method) && !head) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                send(ex, 405, "text/plain; charset=utf-8", bytes("method not allowed\n"), head);
                return;
            }
            String path = ex.getRequestURI().getPath();
            if ("/api/state".equals(path)) {
                ex.getResponseHeaders().set("Cache-Control", "no-store");
                send(
                        ex,
                        200,
                        "application/json; charset=utf-8",
                        json.writeValueAsBytes(model.snapshot()),
                        head);
                return;
            }
            Asset asset = ASSETS.get(path);
            if (asset == null) {
                send(
                        ex,
                        404,
                        "text/plain; charset=utf-8",
                        bytes("not found: " + path + "\n"),
                        head);
                return;
            }
            send(ex, 200, asset.contentType(), resource(asset.resource()), head);
        } catch (RuntimeException e) {
            LOG.warn("dashboard: {} {} failed: {}", ex.getRequestMethod(), ex.getRequestURI(), e);
        }
    }

    private static void send(
            HttpExchange ex, int status, String contentType, byte[] body, boolean head)
            throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.getResponseHeaders().set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        if (head) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] resource(String name) {
        try (InputStream in = Dashboard.class.getResourceAsStream("/dashboard/" + name)) {
            if (in == null) {
                throw new IllegalStateException(
                        "dashboard resource /dashboard/" + name + " missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(0);
            httpThreads.shutdownNow();
        }
        if (lagThread != null) {
            lagThread.shutdownNow();
            try {
                lagThread.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            lagProbe.close();
        }
        if (follower != null) {
            follower.close();
            try {
                followerThread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (ownsRegistry) {
            registry.close();
        }
    }

    /** Builds a {@link Dashboard}: {@code kafka} and {@code runId} are required. */
    public static final class Builder {
        private KafkaConfig kafka;
        private String runId;
        private final List<WatchedGroup> groups = new ArrayList<>();
        private String host = "localhost";
        private int port = 0;
        private Duration lagInterval = Duration.ofSeconds(3);
        private SchemaRegistry registry;
        private LongSupplier clock = System::currentTimeMillis;

        private Builder() {}

        /** The run's Kafka settings: addresses, topic prefix, client settings. */
        public Builder kafka(KafkaConfig kafka) {
            this.kafka = kafka;
            return this;
        }

        /** The run id; events of other runs under the same prefix are not shown. */
        public Builder runId(String runId) {
            this.runId = runId;
            return this;
        }

        /** A consumer group whose lag is shown (repeatable, shown in this order). */
        public Builder watch(WatchedGroup group) {
            groups.add(group);
            return this;
        }

        /** Address to listen on (default {@code localhost}; {@code 0.0.0.0} for every one). */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** Port (default 0: a free one, see {@link Dashboard#url()}). */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** How often lag is read (default 3 s). */
        public Builder lagInterval(Duration lagInterval) {
            this.lagInterval = lagInterval;
            return this;
        }

        /** A registry client to decode with (default: one for {@code kafka.registry}). */
        public Builder registry(SchemaRegistry registry) {
            this.registry = registry;
            return this;
        }

        /** The model's clock, epoch ms (tests pin it to make the throughput window exact). */
        Builder clock(LongSupplier clock) {
            this.clock = clock;
            return this;
        }

        public Dashboard build() {
            if (kafka == null) {
                throw new IllegalArgumentException("dashboard: kafka settings are required");
            }
            if (runId == null || runId.isBlank()) {
                throw new IllegalArgumentException("dashboard: a run id is required");
            }
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("dashboard: host must not be empty");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException(
                        "dashboard: port must be in 0..65535, got " + port);
            }
            if (lagInterval == null || lagInterval.toMillis() < 100) {
                throw new IllegalArgumentException(
                        "dashboard: lag interval must be >= 100 ms, got " + lagInterval);
            }
            java.util.Set<String> labels = new java.util.HashSet<>();
            for (WatchedGroup g : groups) {
                if (!labels.add(g.label())) {
                    throw new IllegalArgumentException(
                            "dashboard: two watched groups labelled '" + g.label() + "'");
                }
            }
            return new Dashboard(this);
        }
    }
}

package dev.diffustream.schemas.telemetry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics} in the Prometheus text format, on the JDK's HTTP server (no web framework in
 * every service). Scrapes are answered one at a time on a daemon thread.
 */
final class MetricsEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

    /** The Prometheus text exposition format. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    static final String PATH = "/metrics";

    private final HttpServer server;
    private final ExecutorService executor;
    private final URI url;

    private MetricsEndpoint(HttpServer server, ExecutorService executor, URI url) {
        this.server = server;
        this.executor = executor;
        this.url = url;
    }

    static MetricsEndpoint start(String host, int port, PrometheusMeterRegistry registry) {
        InetSocketAddress address =
                host == null ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
        HttpServer server;
        try {
            server = HttpServer.create(address, 16);
        } catch (BindException e) {
            throw new IllegalStateException(
                    "cannot serve metrics on port "
                            + port
                            + (host == null ? "" : " of " + host)
                            + ": "
                            + e.getMessage()
                            + " (is another process using it? 0 picks a free port)",
                    e);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot serve metrics on " + address + ": " + e.getMessage(), e);
        }
        ExecutorService executor =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread t = new Thread(r, "telemetry-http");
                            t.setDaemon(true);
                            return t;
                        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> handle(exchange, registry));
        // The JDK server's dispatcher thread inherits the daemon flag of the thread that starts it:
        // start it from a daemon thread, so serving metrics never keeps a finished JVM alive.
        Thread starter = new Thread(server::start, "telemetry-http-start");
        starter.setDaemon(true);
        starter.start();
        try {
            starter.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.stop(0);
            executor.shutdownNow();
            throw new IllegalStateException("interrupted while starting the metrics endpoint", e);
        }
        String urlHost = host == null || host.equals("0.0.0.0") ? "localhost" : host;
        URI url = URI.create("http://" + urlHost + ":" + server.getAddress().getPort() + PATH);
        LOG.debug("metrics served at {}", url);
        return new MetricsEndpoint(server, executor, url);
    }

    private static void handle(HttpExchange exchange, PrometheusMeterRegistry registry)
            throws IOException {
        try {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            if (!path.equals(PATH) && !path.equals(PATH + "/")) {
                reply(exchange, 404, "text/plain; charset=utf-8", "not found: try " + PATH + "\n");
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                reply(exchange, 405, "text/plain; charset=utf-8", "use GET\n");
                return;
            }
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (RuntimeException e) {
            LOG.warn("metrics scrape failed: {}", e.toString());
            throw e;
        } finally {
            exchange.close();
        }
    }

    private static void reply(HttpExchange exchange, int status, String type, String text)
            throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    int port() {
        return server.getAddress().getPort();
    }

    URI url() {
        return url;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}

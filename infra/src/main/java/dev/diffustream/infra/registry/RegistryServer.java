package dev.diffustream.infra.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.diffustream.infra.registry.CompatibilityLevel.Problem;
import dev.diffustream.infra.registry.RegistryService.SubjectVersion;
import dev.diffustream.infra.registry.RegistryState.Version;
import dev.diffustream.schemas.config.KafkaConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Confluent-compatible schema registry for machines without one: the REST subset that clients
 * use, served by the JDK's HTTP server, with schemas stored in a compacted Kafka topic (so a
 * restart keeps every id). Avro only; BACKWARD compatibility by default.
 *
 * <pre>{@code
 * try (RegistryServer registry = RegistryServer.builder().kafka(kafkaConfig).port(0).start()) {
 *     String url = registry.url(); // "http://localhost:40123"
 * }
 * }</pre>
 *
 * <p>Endpoints: {@code POST /subjects/{s}/versions} (register), {@code POST /subjects/{s}}
 * (lookup), {@code GET /subjects}, {@code GET /subjects/{s}/versions}, {@code GET
 * /subjects/{s}/versions/{v|latest}[/schema]}, {@code DELETE /subjects/{s}[/versions/{v}]} (soft),
 * {@code GET /schemas/ids/{id}[/schema|/subjects|/versions]}, {@code GET /schemas/types}, {@code
 * GET|PUT /config}, {@code GET|PUT|DELETE /config/{s}}, {@code POST
 * /compatibility/subjects/{s}/versions/{v|latest}}. Errors carry Confluent's {@code error_code}s
 * (40401 subject, 40402 version, 40403 schema not found, 40408 no subject config, 409 incompatible,
 * 42201 invalid schema, 42202 invalid version, 42203 invalid level).
 */
public final class RegistryServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryServer.class);

    /** Confluent's media type; answered on every response. */
    public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    /** The default store topic: not Confluent's {@code _schemas}, so the two never mix. */
    public static final String DEFAULT_TOPIC = "_diffustream_schemas";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer http;
    private final ExecutorService executor;
    private final RegistryService service;
    private final String url;
    private final Duration startupTime;

    private RegistryServer(
            HttpServer http,
            ExecutorService executor,
            RegistryService service,
            String host,
            Duration startupTime) {
        this.http = http;
        this.executor = executor;
        this.service = service;
        this.url = "http://" + host + ":" + http.getAddress().getPort();
        this.startupTime = startupTime;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The base URL, e.g. {@code http://localhost:8081}. */
    public String url() {
        return url;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    /** From {@link Builder#start()} to serving (includes replaying the store topic). */
    public Duration startupTime() {
        return startupTime;
    }

    /** Where schemas are stored, for messages. */
    public String store() {
        return service.describeStore();
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
        service.close();
    }

    /** Options of a registry server. */
    public static final class Builder {
        private String host = "localhost";
        private int port;
        private String bootstrap;
        private Map<String, String> client = Map.of();
        private String topic = DEFAULT_TOPIC;
        private short replicationFactor = 1;
        private boolean inMemory;
        private CompatibilityLevel defaultLevel = CompatibilityLevel.BACKWARD;
        private Duration timeout = Duration.ofSeconds(30);

        private Builder() {}

        /**
         * Stores schemas on this Kafka cluster (bootstrap, client settings, replication factor).
         */
        public Builder kafka(KafkaConfig kafka) {
            this.bootstrap = kafka.bootstrap();
            this.client = kafka.client();
            this.replicationFactor = kafka.replicationFactor();
            return this;
        }

        /** Stores schemas on the Kafka cluster at {@code bootstrap}. */
        public Builder bootstrap(String bootstrap) {
            this.bootstrap = bootstrap;
            return this;
        }

        /** The store topic (default {@value RegistryServer#DEFAULT_TOPIC}). */
        public Builder topic(String topic) {
            this.topic = topic;
            return this;
        }

        public Builder replicationFactor(short rf) {
            this.replicationFactor = rf;
            return this;
        }

        /** Keeps schemas in memory only: forgotten on close (unit tests). */
        public Builder inMemory() {
            this.inMemory = true;
            return this;
        }

        /** The interface to bind (default {@code localhost}). */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** The port; 0 (default) picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** The global level until one is set with {@code PUT /config} (default BACKWARD). */
        public Builder defaultCompatibility(CompatibilityLevel level) {
            this.defaultLevel = level;
            return this;
        }

        /** Timeout of start-up and of each write to the store (default 30 s). */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /**
         * Replays the store topic (creating it if missing) and starts serving.
         *
         * @throws IllegalStateException naming the broker or port if either is unusable
         */
        public RegistryServer start() {
            long t0 = System.nanoTime();
            if (!inMemory && (bootstrap == null || bootstrap.isBlank())) {
                throw new IllegalStateException(
                        "schema registry: no Kafka bootstrap address (or inMemory()) given");
            }
            SchemaLog log =
                    inMemory
                            ? new InMemorySchemaLog()
                            : new KafkaSchemaLog(
                                    bootstrap, client, topic, replicationFactor, timeout);
            RegistryService service = new RegistryService(log, defaultLevel);
            HttpServer http;
            try {
                service.start();
                http = HttpServer.create(new InetSocketAddress(host, port), 64);
            } catch (IOException e) {
                service.close();
                throw new IllegalStateException(
                        "schema registry: cannot listen on "
                                + host
                                + ":"
                                + port
                                + " ("
                                + e.getMessage()
                                + "). Is the port in use? Pick another (0 picks a free one).",
                        e);
            } catch (RuntimeException e) {
                service.close();
                throw e;
            }
            AtomicInteger n = new AtomicInteger();
            ExecutorService executor =
                    Executors.newFixedThreadPool(
                            4,
                            r -> {
                                Thread t = new Thread(r, "registry-http-" + n.incrementAndGet());
                                t.setDaemon(true);
                                return t;
                            });
            http.setExecutor(executor);
            http.createContext("/", new Router(service)::handle);
            http.start();
            RegistryServer server =
                    new RegistryServer(
                            http,
                            executor,
                            service,
                            host,
                            Duration.ofNanos(System.nanoTime() - t0));
            LOG.debug("schema registry at {} storing in {}", server.url(), service.describeStore());
            return server;
        }
    }

    /** Routes requests to the service and renders Confluent's JSON. */
    private static final class Router {
        private final RegistryService service;

        Router(RegistryService service) {
            this.service = service;
        }

        void handle(HttpExchange exchange) throws IOException {
            try (exchange) {
                int status = 200;
                Object body;
                try {
                    body = route(exchange);
                } catch (RegistryError e) {
                    status = e.status();
                    body = error(e.errorCode(), e.getMessage());
                } catch (BadRequest e) {
                    status = 422;
                    body = error(422, e.getMessage());
                } catch (RuntimeException e) {
                    LOG.warn(
                            "registry request {} {} failed",
                            exchange.getRequestMethod(),
                            exchange.getRequestURI(),
                            e);
                    status = 500;
                    body = error(50001, "Error in the backend data store: " + e);
                }
                byte[] bytes = JSON.writeValueAsBytes(body);
                exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
                exchange.sendResponseHeaders(status, bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }

        private Object route(HttpExchange ex) throws IOException {
            String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
            List<String> p = segments(ex.getRequestURI().getRawPath());
            Map<String, String> q = query(ex.getRequestURI().getRawQuery());
            boolean deleted = Boolean.parseBoolean(q.getOrDefault("deleted", "false"));
            int n = p.size();
            String first = n == 0 ? "" : p.get(0);
            switch (first) {
                case "" -> {
                    requireMethod(method, "GET");
                    return JSON.createObjectNode();
                }
                case "subjects" -> {
                    if (n == 1) {
                        requireMethod(method, "GET");
                        return service.subjects(deleted);
                    }
                    String subject = p.get(1);
                    if (n == 2) {
                        if (method.equals("POST")) {
                            SubjectVersion v = service.lookup(subject, schemaOf(ex), deleted);
                            return versionJson(v);
                        }
                        requireMethod(method, "DELETE");
                        if (Boolean.parseBoolean(q.getOrDefault("permanent", "false"))) {
                            throw permanentDelete();
                        }
                        return service.deleteSubject(subject);
                    }
                    if (!p.get(2).equals("versions")) {
                        throw notFound(ex);
                    }
                    if (n == 3) {
                        if (method.equals("POST")) {
                            int id = service.register(subject, schemaOf(ex));
                            return JSON.createObjectNode().put("id", id);
                        }
                        requireMethod(method, "GET");
                        return service.versions(subject, deleted);
                    }
                    String version = p.get(3);
                    if (n == 4) {
                        if (method.equals("DELETE")) {
                            if (Boolean.parseBoolean(q.getOrDefault("permanent", "false"))) {
                                throw permanentDelete();
                            }
                            return service.deleteVersion(subject, version);
                        }
                        requireMethod(method, "GET");
                        return versionJson(service.version(subject, version, deleted));
                    }
                    if (n == 5 && p.get(4).equals("referencedby")) {
                        requireMethod(method, "GET");
                        service.version(subject, version, deleted); // 404s as Confluent does
                        return List.of(); // schema references are not supported: nothing refers
                    }
                    if (n == 5 && p.get(4).equals("schema")) {
                        requireMethod(method, "GET");
                        return JSON.readTree(service.version(subject, version, deleted).schema());
                    }
                    throw notFound(ex);
                }
                case "schemas" -> {
                    requireMethod(method, "GET");
                    if (n == 2 && p.get(1).equals("types")) {
                        return List.of("AVRO");
                    }
                    if (n < 3 || !p.get(1).equals("ids")) {
                        throw notFound(ex);
                    }
                    int id = parseId(p.get(2));
                    if (n == 3) {
                        return JSON.createObjectNode().put("schema", service.schemaById(id));
                    }
                    String what = p.get(3);
                    if (n == 4 && what.equals("schema")) {
                        return JSON.readTree(service.schemaById(id));
                    }
                    if (n == 4 && what.equals("subjects")) {
                        return service.usesOf(id).stream()
                                .map(Version::subject)
                                .distinct()
                                .sorted()
                                .toList();
                    }
                    if (n == 4 && what.equals("versions")) {
                        ArrayNode out = JSON.createArrayNode();
                        for (Version v : service.usesOf(id)) {
                            out.addObject().put("subject", v.subject()).put("version", v.version());
                        }
                        return out;
                    }
                    throw notFound(ex);
                }
                case "config" -> {
                    if (n == 1) {
                        if (method.equals("PUT")) {
                            CompatibilityLevel level = levelOf(ex);
                            service.setLevel(null, level);
                            return JSON.createObjectNode().put("compatibility", level.name());
                        }
                        requireMethod(method, "GET");
                        return JSON.createObjectNode()
                                .put("compatibilityLevel", service.globalLevel().name());
                    }
                    if (n != 2) {
                        throw notFound(ex);
                    }
                    String subject = p.get(1);
                    switch (method) {
                        case "PUT" -> {
                            CompatibilityLevel level = levelOf(ex);
                            service.setLevel(subject, level);
                            return JSON.createObjectNode().put("compatibility", level.name());
                        }
                        case "DELETE" -> {
                            return JSON.createObjectNode()
                                    .put("compatibilityLevel", service.clearLevel(subject).name());
                        }
                        case "GET" -> {
                            boolean defaultToGlobal =
                                    Boolean.parseBoolean(
                                            q.getOrDefault("defaultToGlobal", "false"));
                            CompatibilityLevel level =
                                    service.subjectLevel(subject)
                                            .or(
                                                    () ->
                                                            defaultToGlobal
                                                                    ? java.util.Optional.of(
                                                                            service.globalLevel())
                                                                    : java.util.Optional.empty())
                                            .orElseThrow(
                                                    () -> RegistryError.noSubjectConfig(subject));
                            return JSON.createObjectNode().put("compatibilityLevel", level.name());
                        }
                        default -> throw methodNotAllowed(method);
                    }
                }
                case "compatibility" -> {
                    requireMethod(method, "POST");
                    if (n != 5 || !p.get(1).equals("subjects") || !p.get(3).equals("versions")) {
                        throw notFound(ex);
                    }
                    List<Problem> problems =
                            service.compatibility(p.get(2), p.get(4), schemaOf(ex));
                    ObjectNode out =
                            JSON.createObjectNode().put("is_compatible", problems.isEmpty());
                    if (Boolean.parseBoolean(q.getOrDefault("verbose", "false"))) {
                        ArrayNode messages = out.putArray("messages");
                        problems.forEach(
                                pr ->
                                        messages.add(
                                                pr.errorType()
                                                        + ": "
                                                        + pr.description()
                                                        + " at "
                                                        + pr.location()
                                                        + " (version "
                                                        + pr.oldVersion()
                                                        + ")"));
                    }
                    return out;
                }
                default -> throw notFound(ex);
            }
        }

        private static ObjectNode versionJson(SubjectVersion v) {
            return JSON.createObjectNode()
                    .put("subject", v.subject())
                    .put("version", v.version())
                    .put("id", v.id())
                    .put("schema", v.schema());
        }

        private static ObjectNode error(int code, String message) {
            return JSON.createObjectNode().put("error_code", code).put("message", message);
        }

        private static String schemaOf(HttpExchange ex) throws IOException {
            JsonNode body = body(ex);
            String type = body.path("schemaType").asText("AVRO");
            if (!type.equalsIgnoreCase("AVRO")) {
                throw RegistryError.invalidSchema(
                        "schema type " + type + " is not supported by this registry (Avro only)");
            }
            JsonNode refs = body.get("references");
            if (refs != null && refs.isArray() && !refs.isEmpty()) {
                throw RegistryError.invalidSchema(
                        "schema references are not supported by this registry");
            }
            JsonNode schema = body.get("schema");
            if (schema == null || !schema.isTextual()) {
                throw new BadRequest(
                        "the request body must be a JSON object with a string field 'schema'");
            }
            return schema.asText();
        }

        private static CompatibilityLevel levelOf(HttpExchange ex) throws IOException {
            JsonNode body = body(ex);
            String text =
                    body.path("compatibility").asText(body.path("compatibilityLevel").asText(null));
            CompatibilityLevel level = CompatibilityLevel.parse(text);
            if (level == null) {
                throw RegistryError.invalidCompatibility(String.valueOf(text));
            }
            return level;
        }

        private static JsonNode body(HttpExchange ex) throws IOException {
            byte[] bytes;
            try (InputStream in = ex.getRequestBody()) {
                bytes = in.readAllBytes();
            }
            try {
                JsonNode node = JSON.readTree(bytes);
                if (node == null || !node.isObject()) {
                    throw new BadRequest("the request body must be a JSON object");
                }
                return node;
            } catch (JsonProcessingException e) {
                throw new BadRequest(
                        "the request body is not valid JSON: " + e.getOriginalMessage());
            }
        }

        private static int parseId(String text) {
            try {
                return Integer.parseInt(text);
            } catch (NumberFormatException e) {
                throw RegistryError.schemaNotFound("Schema " + text);
            }
        }

        private static void requireMethod(String method, String allowed) {
            if (!method.equals(allowed)) {
                throw methodNotAllowed(method);
            }
        }

        private static RegistryError methodNotAllowed(String method) {
            return new RegistryError(405, 405, "HTTP " + method + " is not supported here");
        }

        private static RegistryError permanentDelete() {
            return new RegistryError(
                    405,
                    405,
                    "permanent deletes are not supported by this registry (an id must never be reused); a soft delete (without permanent=true) hides the versions");
        }

        private static RegistryError notFound(HttpExchange ex) {
            return new RegistryError(
                    404,
                    404,
                    "HTTP 404 Not Found: "
                            + ex.getRequestMethod()
                            + " "
                            + ex.getRequestURI().getPath());
        }

        /** Path segments, percent-decoded (a subject may contain any character). */
        static List<String> segments(String rawPath) {
            List<String> out = new ArrayList<>();
            if (rawPath == null) {
                return out;
            }
            for (String s : rawPath.split("/")) {
                if (!s.isEmpty()) {
                    out.add(percentDecode(s));
                }
            }
            return out;
        }

        static Map<String, String> query(String rawQuery) {
            Map<String, String> out = new HashMap<>();
            if (rawQuery == null || rawQuery.isEmpty()) {
                return out;
            }
            for (String pair : rawQuery.split("&")) {
                int eq = pair.indexOf('=');
                String k = eq < 0 ? pair : pair.substring(0, eq);
                String v = eq < 0 ? "true" : pair.substring(eq + 1);
                out.put(percentDecode(k), percentDecode(v.replace('+', ' ')));
            }
            return out;
        }

        private static String percentDecode(String s) {
            if (s.indexOf('%') < 0) {
                return s;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '%' && i + 2 < s.length()) {
                    try {
                        out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                        i += 2;
                        continue;
                    } catch (NumberFormatException e) {
                        // a literal '%'
                    }
                }
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    /** A malformed request body. */
    private static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message);
        }
    }
}

package dev.diffustream.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * A client for the Confluent Schema Registry REST API (v1), as spoken by Confluent's registry,
 * Apicurio's {@code /apis/ccompat/v7} endpoint, Karapace, Redpanda and our stand-in.
 *
 * <p>Ids are immutable, so {@link #schemaById} and {@link #register} are cached; {@link #latest} is
 * not. Every failure is a {@link SchemaRegistryException} whose message names the URL, the subject
 * and the registry's own reason.
 */
public final class RestSchemaRegistry implements SchemaRegistry {

    /** The registry's media type; plain {@code application/json} is accepted too. */
    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String baseUrl;
    private final HttpClient http;
    private final Duration requestTimeout;
    private final String authorization;
    private final Map<Integer, Schema> schemaCache = new ConcurrentHashMap<>();
    private final Map<String, Integer> idCache = new ConcurrentHashMap<>();

    /**
     * @param baseUrl e.g. {@code http://localhost:8081} (a trailing slash is ignored)
     * @param basicAuth {@code user:password} for HTTP basic auth, or {@code null}/empty for none
     * @param connectTimeout TCP connect timeout
     * @param requestTimeout timeout of each request
     */
    public RestSchemaRegistry(
            String baseUrl, String basicAuth, Duration connectTimeout, Duration requestTimeout) {
        if (baseUrl == null || baseUrl.isBlank()) {
            throw new IllegalArgumentException("schema registry URL is empty");
        }
        String trimmed = baseUrl.strip();
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        try {
            URI uri = URI.create(trimmed);
            if (uri.getScheme() == null || uri.getHost() == null) {
                throw new IllegalArgumentException("no scheme or host");
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "schema registry URL '"
                            + baseUrl
                            + "' is not a valid http(s) URL (expected e.g. http://localhost:8081)",
                    e);
        }
        this.baseUrl = trimmed;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(connectTimeout).build();
        this.authorization =
                basicAuth == null || basicAuth.isEmpty()
                        ? null
                        : "Basic "
                                + Base64.getEncoder()
                                        .encodeToString(basicAuth.getBytes(StandardCharsets.UTF_8));
    }

    /** A client with 5 s connect and 10 s request timeouts and no authentication. */
    public RestSchemaRegistry(String baseUrl) {
        this(baseUrl, null, Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    /** The base URL this client talks to. */
    public String url() {
        return baseUrl;
    }

    @Override
    public int register(String subject, Schema schema) {
        String key = subject + '\u0000' + schema.toString();
        Integer cached = idCache.get(key);
        if (cached != null) {
            return cached;
        }
        JsonNode body =
                call(
                        "POST",
                        "/subjects/" + enc(subject) + "/versions",
                        schemaBody(schema),
                        subject);
        int id = body.path("id").asInt(-1);
        if (id < 0) {
            throw new SchemaRegistryException(
                    "schema registry "
                            + baseUrl
                            + " answered registration of subject '"
                            + subject
                            + "' without an id: "
                            + body,
                    200,
                    0);
        }
        idCache.put(key, id);
        schemaCache.putIfAbsent(id, schema);
        return id;
    }

    @Override
    public Schema schemaById(int id) {
        Schema cached = schemaCache.get(id);
        if (cached != null) {
            return cached;
        }
        JsonNode body = call("GET", "/schemas/ids/" + id, null, null);
        Schema schema = parse(body.path("schema").asText(), "schema id " + id);
        schemaCache.put(id, schema);
        return schema;
    }

    @Override
    public SchemaVersion latest(String subject) {
        JsonNode body =
                call("GET", "/subjects/" + enc(subject) + "/versions/latest", null, subject);
        return new SchemaVersion(
                body.path("subject").asText(subject),
                body.path("version").asInt(),
                body.path("id").asInt(),
                parse(body.path("schema").asText(), "subject '" + subject + "'"));
    }

    @Override
    public boolean isCompatible(String subject, Schema schema) {
        try {
            JsonNode body =
                    call(
                            "POST",
                            "/compatibility/subjects/" + enc(subject) + "/versions/latest",
                            schemaBody(schema),
                            subject);
            return body.path("is_compatible").asBoolean(false);
        } catch (SchemaRegistryException e) {
            if (e.isNotFound()) {
                return true; // nothing registered yet: anything is compatible
            }
            throw e;
        }
    }

    @Override
    public List<String> subjects() {
        JsonNode body = call("GET", "/subjects", null, null);
        List<String> out = new ArrayList<>();
        body.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Override
    public String compatibility() {
        JsonNode body = call("GET", "/config", null, null);
        return body.path("compatibilityLevel").asText(body.path("compatibility").asText(""));
    }

    /** Sets the global compatibility level ({@code PUT /config}). */
    public void setCompatibility(String level) {
        ObjectNode body = JSON.createObjectNode().put("compatibility", level);
        call("PUT", "/config", body.toString(), null);
    }

    private static String schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString()).toString();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private Schema parse(String text, String what) {
        try {
            return new Schema.Parser().parse(text);
        } catch (RuntimeException e) {
            throw new SchemaRegistryException(
                    "schema registry "
                            + baseUrl
                            + " returned an unparseable Avro schema for "
                            + what
                            + ": "
                            + e.getMessage(),
                    200,
                    0,
                    e);
        }
    }

    private JsonNode call(String method, String path, String body, String subject) {
        String url = baseUrl + path;
        String where = subject == null ? url : url + " (subject '" + subject + "')";
        HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(requestTimeout)
                        .header("Accept", CONTENT_TYPE + ", application/json");
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (body != null) {
            request.header("Content-Type", CONTENT_TYPE)
                    .method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new SchemaRegistryException(
                    "schema registry unreachable at "
                            + where
                            + ": connection refused. Check that the registry is running and that"
                            + " the registry URL (kafka.registry / --registry) is right.",
                    0,
                    0,
                    e);
        } catch (HttpTimeoutException e) {
            throw new SchemaRegistryException(
                    "schema registry at "
                            + where
                            + " did not answer within "
                            + requestTimeout
                            + ". Check the registry URL and the network.",
                    0,
                    0,
                    e);
        } catch (IOException e) {
            throw new SchemaRegistryException(
                    "schema registry call " + method + " " + where + " failed: " + e, 0, 0, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException(
                    "interrupted while calling schema registry " + where, 0, 0, e);
        }
        int status = response.statusCode();
        JsonNode json;
        try {
            String text = response.body();
            json = text == null || text.isBlank() ? JSON.nullNode() : JSON.readTree(text);
        } catch (IOException e) {
            if (status / 100 == 2) {
                throw new SchemaRegistryException(
                        "schema registry "
                                + where
                                + " answered "
                                + status
                                + " with a body that is not JSON: "
                                + abbreviate(response.body()),
                        status,
                        0,
                        e);
            }
            json = JSON.nullNode();
        }
        if (status / 100 != 2) {
            int code = json.path("error_code").asInt(0);
            String reason = json.path("message").asText(abbreviate(response.body()));
            String hint =
                    status == 401 || status == 403
                            ? " Check the registry credentials (kafka.registryAuth)."
                            : "";
            throw new SchemaRegistryException(
                    "schema registry "
                            + method
                            + " "
                            + where
                            + " failed with HTTP "
                            + status
                            + (code != 0 ? " (error " + code + ")" : "")
                            + ": "
                            + reason
                            + hint,
                    status,
                    code);
        }
        return json;
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "";
        }
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }
}

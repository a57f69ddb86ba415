package dev.diffustream.infra.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.schemas.registry.RestSchemaRegistry;
import dev.diffustream.schemas.registry.SchemaRegistryException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The REST API of the stand-in, over HTTP, with the log held in memory (no broker). */
class RegistryServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema V1 =
            SchemaBuilder.record("Thing")
                    .namespace("test")
                    .fields()
                    .requiredString("id")
                    .endRecord();
    private static final Schema V2_DEFAULTED =
            SchemaBuilder.record("Thing")
                    .namespace("test")
                    .fields()
                    .requiredString("id")
                    .name("size")
                    .type()
                    .intType()
                    .intDefault(0)
                    .endRecord();
    private static final Schema V2_NO_DEFAULT =
            SchemaBuilder.record("Thing")
                    .namespace("test")
                    .fields()
                    .requiredString("id")
                    .requiredInt("size")
                    .endRecord();

    private RegistryServer server;
    private RestSchemaRegistry client;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        server = RegistryServer.builder().inMemory().port(0).start();
        client = new RestSchemaRegistry(server.url());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void shouldGiveTheSameIdWhenTheSameSchemaIsRegisteredAgain() {
        // given a registered schema
        int id = client.register("things-value", V1);

        // when it is registered again, under the same and under another subject
        int again = new RestSchemaRegistry(server.url()).register("things-value", V1);
        int elsewhere = client.register("others-value", V1);

        // then the id is the same and the subject has one version
        assertThat(again).isEqualTo(id);
        assertThat(elsewhere).isEqualTo(id);
        assertThat(client.latest("things-value").version()).isEqualTo(1);
        assertThat(client.schemaById(id)).isEqualTo(V1);
        assertThat(client.subjects()).containsExactly("others-value", "things-value");
    }

    @Test
    void shouldAcceptABackwardCompatibleVersionAndRejectAnIncompatibleOneWith409() {
        // given v1
        int id1 = client.register("things-value", V1);

        // when a v2 with a field without default is checked and registered
        // then it is refused with 409 and Avro's reason
        assertThat(client.isCompatible("things-value", V2_NO_DEFAULT)).isFalse();
        assertThatThrownBy(() -> client.register("things-value", V2_NO_DEFAULT))
                .isInstanceOfSatisfying(
                        SchemaRegistryException.class,
                        e -> {
                            assertThat(e.isIncompatible()).isTrue();
                            assertThat(e.errorCode()).isEqualTo(409);
                        })
                .hasMessageContaining("incompatible with an earlier schema")
                .hasMessageContaining("READER_FIELD_MISSING_DEFAULT_VALUE")
                .hasMessageContaining("size");

        // when a v2 with a defaulted field is registered
        int id2 = client.register("things-value", V2_DEFAULTED);

        // then it gets a new id and becomes the latest version
        assertThat(id2).isNotEqualTo(id1);
        assertThat(client.latest("things-value").version()).isEqualTo(2);
        assertThat(client.latest("things-value").id()).isEqualTo(id2);
    }

    @Test
    void shouldAcceptAnyChangeWhenTheSubjectLevelIsNone() throws Exception {
        // given v1 and the subject set to NONE
        client.register("things-value", V1);
        JsonNode put = call("PUT", "/config/things-value", "{\"compatibility\":\"none\"}", 200);
        assertThat(put.path("compatibility").asText()).isEqualTo("NONE");

        // when an incompatible version is registered, then it is accepted
        client.register("things-value", V2_NO_DEFAULT);
        assertThat(
                        call("GET", "/config/things-value", null, 200)
                                .path("compatibilityLevel")
                                .asText())
                .isEqualTo("NONE");
        assertThat(client.compatibility()).isEqualTo("BACKWARD");
    }

    @Test
    void shouldCheckForwardCompatibilityWhenTheGlobalLevelIsForward() throws Exception {
        // given the global level FORWARD and v1 with a field the next version drops
        call("PUT", "/config", "{\"compatibility\":\"FORWARD\"}", 200);
        Schema v1 = V2_NO_DEFAULT;
        client.register("fw-value", v1);

        // when v2 drops the field old readers need without a default, then it is rejected
        assertThatThrownBy(() -> client.register("fw-value", V1))
                .isInstanceOf(SchemaRegistryException.class)
                .hasMessageContaining("FORWARD");
        // and adding a field is fine for old readers
        Schema v2 =
                SchemaBuilder.record("Thing")
                        .namespace("test")
                        .fields()
                        .requiredString("id")
                        .requiredInt("size")
                        .optionalString("note")
                        .endRecord();
        client.register("fw-value", v2);
    }

    @Test
    void shouldAnswerConfluentErrorCodesWhenThingsAreMissingOrInvalid() throws Exception {
        // given an empty registry
        // then missing subjects, versions, schemas and subject configs have their codes
        assertThat(
                        call("GET", "/subjects/nope/versions/latest", null, 404)
                                .path("error_code")
                                .asInt())
                .isEqualTo(40401);
        assertThat(call("GET", "/schemas/ids/77", null, 404).path("error_code").asInt())
                .isEqualTo(40403);
        assertThat(call("GET", "/config/nope", null, 404).path("error_code").asInt())
                .isEqualTo(40408);
        assertThat(
                        call("GET", "/config/nope?defaultToGlobal=true", null, 200)
                                .path("compatibilityLevel")
                                .asText())
                .isEqualTo("BACKWARD");
        client.register("things-value", V1);
        assertThat(
                        call("GET", "/subjects/things-value/versions/9", null, 404)
                                .path("error_code")
                                .asInt())
                .isEqualTo(40402);
        assertThat(
                        call("GET", "/subjects/things-value/versions/zero", null, 422)
                                .path("error_code")
                                .asInt())
                .isEqualTo(42202);
        assertThat(
                        call("POST", "/subjects/things-value", body("\"int\""), 404)
                                .path("error_code")
                                .asInt())
                .isEqualTo(40403);
        // and an invalid schema or level is a 422
        JsonNode invalid =
                call(
                        "POST",
                        "/subjects/x-value/versions",
                        "{\"schema\":\"{\\\"type\\\":\\\"record\\\"}\"}",
                        422);
        assertThat(invalid.path("error_code").asInt()).isEqualTo(42201);
        assertThat(invalid.path("message").asText()).contains("Invalid schema");
        assertThat(
                        call("PUT", "/config", "{\"compatibility\":\"SIDEWAYS\"}", 422)
                                .path("error_code")
                                .asInt())
                .isEqualTo(42203);
        assertThat(
                        call("POST", "/subjects/x-value/versions", "not json", 422)
                                .path("message")
                                .asText())
                .contains("not valid JSON");
    }

    @Test
    void shouldServeVersionsSchemasAndLookupsLikeConfluent() throws Exception {
        // given two versions
        int id1 = client.register("things-value", V1);
        int id2 = client.register("things-value", V2_DEFAULTED);

        // then the listing, a version, its raw schema, the id's uses and a lookup agree
        assertThat(call("GET", "/subjects/things-value/versions", null, 200).toString())
                .isEqualTo("[1,2]");
        JsonNode v1 = call("GET", "/subjects/things-value/versions/1", null, 200);
        assertThat(v1.path("id").asInt()).isEqualTo(id1);
        assertThat(v1.path("subject").asText()).isEqualTo("things-value");
        assertThat(new Schema.Parser().parse(v1.path("schema").asText())).isEqualTo(V1);
        assertThat(
                        call("GET", "/subjects/things-value/versions/latest/schema", null, 200)
                                .path("name")
                                .asText())
                .isEqualTo("Thing");
        assertThat(call("GET", "/schemas/ids/" + id2 + "/subjects", null, 200).toString())
                .isEqualTo("[\"things-value\"]");
        assertThat(
                        call("GET", "/schemas/ids/" + id2 + "/versions", null, 200)
                                .get(0)
                                .path("version")
                                .asInt())
                .isEqualTo(2);
        JsonNode found = call("POST", "/subjects/things-value", body(V1.toString()), 200);
        assertThat(found.path("version").asInt()).isEqualTo(1);
        assertThat(found.path("id").asInt()).isEqualTo(id1);
        assertThat(call("GET", "/schemas/types", null, 200).toString()).isEqualTo("[\"AVRO\"]");
    }

    @Test
    void shouldHideSoftDeletedVersionsButKeepTheirIds() throws Exception {
        // given a subject with one version
        int id = client.register("things-value", V1);

        // when the subject is deleted
        assertThat(call("DELETE", "/subjects/things-value", null, 200).toString()).isEqualTo("[1]");

        // then it is gone from listings, still there with deleted=true, and its id still resolves
        assertThat(client.subjects()).doesNotContain("things-value");
        assertThat(call("GET", "/subjects?deleted=true", null, 200).toString())
                .contains("things-value");
        assertThat(client.schemaById(id)).isEqualTo(V1);
        // and registering again (a fresh client: ids are cached) gives a new version, same id
        assertThat(new RestSchemaRegistry(server.url()).register("things-value", V1)).isEqualTo(id);
        assertThat(client.latest("things-value").version()).isEqualTo(2);
        assertThat(
                        call("DELETE", "/subjects/things-value?permanent=true", null, 405)
                                .path("message")
                                .asText())
                .contains("never be reused");
    }

    @Test
    void shouldAnswerWithTheConfluentMediaType() throws Exception {
        // when anything is asked
        HttpResponse<String> r =
                http.send(
                        HttpRequest.newBuilder(URI.create(server.url() + "/subjects")).build(),
                        HttpResponse.BodyHandlers.ofString());

        // then the answer is JSON of Confluent's media type
        assertThat(r.headers().firstValue("Content-Type")).contains(RegistryServer.CONTENT_TYPE);
        assertThat(r.body()).isEqualTo("[]");
    }

    @Test
    void shouldDecodePercentEncodedSubjects() throws Exception {
        // given a subject with a space and a slash
        call("POST", "/subjects/odd%20name%2Fx/versions", body(V1.toString()), 200);

        // then it is listed by its decoded name
        assertThat(call("GET", "/subjects", null, 200).get(0).asText()).isEqualTo("odd name/x");
    }

    private static String body(String schema) throws Exception {
        return JSON.createObjectNode().put("schema", schema).toString();
    }

    private JsonNode call(String method, String path, String body, int expectedStatus)
            throws Exception {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(server.url() + path))
                        .header("Content-Type", RegistryServer.CONTENT_TYPE);
        b.method(
                method,
                body == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode())
                .as(method + " " + path + " -> " + r.body())
                .isEqualTo(expectedStatus);
        return JSON.readTree(r.body());
    }
}

package dev.diffustream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.schemas.TopicDef;
import dev.diffustream.schemas.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden payloads (bytes written by an earlier schema version, committed under {@code golden/})
 * must still decode with today's schemas, and every field the old writer knew must keep its value.
 */
class GoldenPayloadTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    static Iterable<TopicDef<?>> topics() {
        return Topics.ALL;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("topics")
    void shouldDecodeV1GoldenPayloadWithCurrentSchema(TopicDef<?> def) throws IOException {
        // given the v1 writer schema, bytes and expected JSON of this topic's value type
        String name = SpecificData.get().getSchema(def.valueType()).getName();
        Schema writer = new Schema.Parser().parse(resource(name + ".v1.avsc"));
        byte[] bytes = resourceBytes(name + ".v1.bin");
        JsonNode expected = JSON.readTree(resource(name + ".v1.json"));
        // when decoded with the current reader schema
        Schema reader = SpecificData.get().getSchema(def.valueType());
        SpecificRecord record =
                new SpecificDatumReader<SpecificRecord>(writer, reader)
                        .read(null, DecoderFactory.get().binaryDecoder(bytes, null));
        // then every field of the old writer has its old value
        JsonNode actual = JSON.readTree(AvroJson.toJson(record));
        for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            assertThat(actual.get(field.getKey()))
                    .as("%s.%s", name, field.getKey())
                    .isEqualTo(field.getValue());
        }
    }

    private static String resource(String name) throws IOException {
        return new String(resourceBytes(name), StandardCharsets.UTF_8);
    }

    private static byte[] resourceBytes(String name) throws IOException {
        try (InputStream in = GoldenPayloadTest.class.getResourceAsStream("/golden/" + name)) {
            assertThat(in).as("golden resource %s", name).isNotNull();
            return in.readAllBytes();
        }
    }
}

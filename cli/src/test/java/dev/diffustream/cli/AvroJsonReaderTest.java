package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.serde.AvroJson;
import dev.diffustream.schemas.testing.Samples;
import java.time.Instant;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

class AvroJsonReaderTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void shouldReadWhatAvroJsonWritesForEveryEventType() throws Exception {
        for (SpecificRecord sample : Samples.oneOfEach()) {
            AvroJsonReader reader = new AvroJsonReader(sample.getClass());
            assertThat(reader.read(AvroJson.toJson(sample)))
                    .as(sample.getSchema().getName())
                    .isEqualTo(sample);
        }
    }

    @Test
    void shouldAcceptBareUnionValuesOmittedDefaultsAndIsoTimestamps() throws Exception {
        // given a metric typed by hand: bare union value, no runId/tags/policyVersion, ISO time
        String line =
                "{\"source\":\"me\",\"name\":\"x/y\",\"value\":1.5,\"step\":3,\"timestamp\":\"2025-01-02T03:04:05Z\"}";

        // when read
        Metric m = new AvroJsonReader<>(Metric.class).read(line);

        // then the defaults and conversions apply
        assertThat(m.getStep()).isEqualTo(3L);
        assertThat(m.getRunId()).isEmpty();
        assertThat(m.getPolicyVersion()).isNull();
        assertThat(m.getTags()).isEmpty();
        assertThat(m.getTimestamp()).isEqualTo(Instant.parse("2025-01-02T03:04:05Z"));
    }

    @Test
    void shouldNameTheFieldWhenARecordDoesNotFit() throws Exception {
        AvroJsonReader<Task> reader = new AvroJsonReader<>(Task.class);
        ObjectNode task = (ObjectNode) JSON.readTree(AvroJson.toJson(Samples.task("t-1")));

        // a missing required field
        ObjectNode missing = task.deepCopy();
        missing.remove("prompt");
        assertThatThrownBy(() -> reader.read(missing.toString()))
                .hasMessage("field 'prompt' is missing (string)");

        // a wrong type inside a list
        ObjectNode wrong = task.deepCopy();
        wrong.withArray("tests").set(1, JSON.getNodeFactory().numberNode(7));
        assertThatThrownBy(() -> reader.read(wrong.toString()))
                .hasMessage("field 'tests[1]': expected string, got a number");

        // an unknown (misspelt) field
        ObjectNode typo = task.deepCopy();
        typo.put("promt", "x");
        assertThatThrownBy(() -> reader.read(typo.toString()))
                .hasMessage("unknown field 'promt' (did you mean 'prompt'?)");

        // an enum symbol that does not exist
        ObjectNode split = task.deepCopy();
        split.put("split", "NOPE");
        assertThatThrownBy(() -> reader.read(split.toString()))
                .hasMessageStartingWith("field 'split': expected one of ");
    }

    @Test
    void shouldGiveTheColumnWhenTheJsonIsMalformed() {
        assertThatThrownBy(() -> new AvroJsonReader<>(Task.class).read("{\"taskId\": \"a\",, }"))
                .isInstanceOf(AvroJsonReader.InvalidRecord.class)
                .hasMessageStartingWith("malformed JSON at column 16");
        assertThatThrownBy(() -> new AvroJsonReader<>(Task.class).read("{} {}"))
                .hasMessageStartingWith("malformed JSON");
    }
}

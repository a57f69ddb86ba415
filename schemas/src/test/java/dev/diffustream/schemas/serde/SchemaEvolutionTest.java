package dev.diffustream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.registry.InMemorySchemaRegistry;
import dev.diffustream.schemas.testing.Samples;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/** Payloads written by another schema version decode with the schema compiled into this build. */
class SchemaEvolutionTest {

    /** Task as a v1 would have had it: without the later, defaulted {@code seed} field. */
    private static final Schema TASK_V1 = withoutField(Task.getClassSchema(), "seed");

    /** Task as a v3 might have it: one more field, with a default. */
    private static final Schema TASK_V3 =
            withExtraField(Task.getClassSchema(), "priority", "int", 5);

    private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();

    @Test
    void shouldDecodeOlderPayloadWithDefaultsWhenReaderAddsAField() throws IOException {
        // given a payload written with the v1 schema (no seed)
        int id = registry.register("tasks-value", TASK_V1);
        GenericRecord v1 = new GenericData.Record(TASK_V1);
        Task sample = Samples.task("HumanEval/0");
        for (Schema.Field f : TASK_V1.getFields()) {
            v1.put(f.name(), sample.get(f.name()));
        }
        byte[] payload = frame(id, TASK_V1, v1);
        // when the current build reads it
        Task back = AvroSerde.forValues(Task.class, registry).deserialize("tasks", payload);
        // then the known fields survive and the new one takes its default
        assertThat(back.getTaskId()).isEqualTo("HumanEval/0");
        assertThat(back.getTests()).isEqualTo(sample.getTests());
        assertThat(back.getSeed()).isZero();
    }

    @Test
    void shouldIgnoreUnknownFieldWhenWriterIsNewer() throws IOException {
        // given a payload written by a newer schema with an extra field
        int id = registry.register("tasks-value", Task.getClassSchema());
        int id3 = registry.register("tasks-value", TASK_V3);
        assertThat(id3).isNotEqualTo(id);
        GenericRecord v3 = new GenericData.Record(TASK_V3);
        Task sample = Samples.task("mbpp/11");
        for (Schema.Field f : Task.getClassSchema().getFields()) {
            v3.put(f.name(), sample.get(f.name()));
        }
        v3.put("priority", 9);
        // when the current build reads it
        Task back =
                AvroSerde.forValues(Task.class, registry)
                        .deserialize("tasks", frame(id3, TASK_V3, v3));
        // then it equals the sample
        assertThat(back).isEqualTo(sample);
    }

    private static byte[] frame(int id, Schema schema, GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, enc);
        enc.flush();
        return out.toByteArray();
    }

    private static Schema withoutField(Schema schema, String drop) {
        List<Schema.Field> fields =
                schema.getFields().stream()
                        .filter(f -> !f.name().equals(drop))
                        .map(f -> new Schema.Field(f, f.schema()))
                        .toList();
        return Schema.createRecord(
                schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }

    private static Schema withExtraField(Schema schema, String name, String type, int dflt) {
        List<Schema.Field> fields =
                new java.util.ArrayList<>(
                        schema.getFields().stream()
                                .map(f -> new Schema.Field(f, f.schema()))
                                .toList());
        fields.add(
                new Schema.Field(
                        name,
                        Schema.create(Schema.Type.valueOf(type.toUpperCase(java.util.Locale.ROOT))),
                        "added later",
                        dflt));
        return Schema.createRecord(
                schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }
}

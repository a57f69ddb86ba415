package dev.diffustream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.registry.InMemorySchemaRegistry;
import dev.diffustream.schemas.registry.SchemaRegistry;
import dev.diffustream.schemas.testing.Samples;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

    private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();

    @Test
    @SuppressWarnings("unchecked")
    void shouldRoundTripEveryEventType() {
        for (SpecificRecord record : Samples.oneOfEach()) {
            // given a serde for the record's type
            AvroSerde<SpecificRecord> serde =
                    new AvroSerde<>((Class<SpecificRecord>) record.getClass(), registry, false);
            // when it is encoded and decoded
            String topic = record.getSchema().getName();
            byte[] bytes = serde.serialize(topic, record);
            SpecificRecord back = serde.deserialize(topic, bytes);
            // then it is equal and framed in the Confluent wire format
            assertThat(back).isEqualTo(record);
            assertThat(bytes[0]).isEqualTo(WireFormat.MAGIC);
            int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
            assertThat(registry.schemaById(id)).isEqualTo(record.getSchema());
        }
    }

    @Test
    void shouldRegisterUnderTopicValueSubjectOnce() {
        // given
        AvroSerde<Task> serde = AvroSerde.forValues(Task.class, registry);
        // when two records go to the same topic
        byte[] a = serde.serialize("run7.tasks", Samples.task("a"));
        byte[] b = serde.serialize("run7.tasks", Samples.task("b"));
        // then one subject holds one version, and both carry its id
        assertThat(registry.subjects()).containsExactly("run7.tasks-value");
        assertThat(registry.latest("run7.tasks-value").version()).isEqualTo(1);
        assertThat(Arrays.copyOf(a, 5)).isEqualTo(Arrays.copyOf(b, 5));
    }

    @Test
    void shouldNameTopicWhenMagicByteIsWrong() {
        AvroSerde<Task> serde = AvroSerde.forValues(Task.class, registry);
        byte[] bytes = serde.serialize("tasks", Samples.task("a"));
        bytes[0] = 1;
        assertThatThrownBy(() -> serde.deserialize("tasks", bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic 'tasks'")
                .hasMessageContaining("magic byte 0x01");
    }

    @Test
    void shouldFailClearlyWhenPayloadIsTruncated() {
        AvroSerde<Completion> serde = AvroSerde.forValues(Completion.class, registry);
        byte[] bytes = serde.serialize("completions", Samples.completion("g", 0, 4, 64, 2));
        byte[] truncated = Arrays.copyOf(bytes, bytes.length / 2);
        assertThatThrownBy(() -> serde.deserialize("completions", truncated))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("Completion")
                .hasMessageContaining("topic 'completions'");
        assertThatThrownBy(() -> serde.deserialize("completions", new byte[] {0, 0}))
                .hasMessageContaining("shorter than the 5-byte");
    }

    @Test
    void shouldFailClearlyWhenSchemaIdIsUnknown() {
        AvroSerde<Task> serde = AvroSerde.forValues(Task.class, registry);
        byte[] bytes = serde.serialize("tasks", Samples.task("a"));
        bytes[4] = 99;
        assertThatThrownBy(() -> serde.deserialize("tasks", bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("schema id 99");
    }

    @Test
    void shouldCarryCoordinatesWhenRecordIsUndecodable() {
        // given a raw record with garbage bytes on the tasks topic
        Topics topics = new Topics("", registry);
        RecordDecoder<Task> decoder = new RecordDecoder<>(topics.tasks());
        ConsumerRecord<byte[], byte[]> raw =
                new ConsumerRecord<>("tasks", 3, 17L, "k".getBytes(), new byte[] {7, 7, 7});
        // then the typed exception says topic, partition and offset
        assertThatThrownBy(() -> decoder.value(raw))
                .isInstanceOfSatisfying(
                        UndecodableRecordException.class,
                        e -> {
                            assertThat(e.topic()).isEqualTo("tasks");
                            assertThat(e.partition()).isEqualTo(3);
                            assertThat(e.offset()).isEqualTo(17L);
                        })
                .hasMessageContaining("tasks-3@17");
        assertThat(RecordDecoder.key(raw)).isEqualTo("k");
    }

    @Test
    void shouldRejectIncompatibleSchemaInMemoryLikeARealRegistry() {
        // given a subject with the Task schema
        SchemaRegistry reg = registry;
        reg.register("tasks-value", Task.getClassSchema());
        // when a schema that drops a field without default is checked (BACKWARD)
        org.apache.avro.Schema incompatible =
                new org.apache.avro.Schema.Parser()
                        .parse(
                                "{\"type\":\"record\",\"name\":\"Task\",\"namespace\":"
                                        + "\"dev.diffustream.schemas.avro\",\"fields\":[{\"name\":"
                                        + "\"brandNew\",\"type\":\"string\"}]}");
        // then it is refused
        assertThat(reg.isCompatible("tasks-value", incompatible)).isFalse();
    }
}

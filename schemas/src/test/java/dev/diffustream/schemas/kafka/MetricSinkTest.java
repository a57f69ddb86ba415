package dev.diffustream.schemas.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.registry.InMemorySchemaRegistry;
import dev.diffustream.schemas.telemetry.Telemetry;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class MetricSinkTest {

    @Test
    void shouldPublishEverySampleAndMirrorItIntoPrometheusGauges() {
        // given a sink on a mock producer and its own telemetry
        MockProducer<byte[], byte[]> producer =
                new MockProducer<>(
                        true, null, new ByteArraySerializer(), new ByteArraySerializer());
        Topic<Metric> topic = new Topics("run7.", new InMemorySchemaRegistry()).metrics();
        try (Telemetry telemetry = Telemetry.create()) {
            MetricSink sink = new MetricSink(producer, topic, "run7", "sandbox-1", telemetry);

            // when it emits two samples of one metric
            sink.emit("sandbox/outcome/passed", 3, null, null, Map.of("slot", "0"));
            sink.emit("sandbox/outcome/passed", 4, 12L, 2L, Map.of("slot", "0"));

            // then both went to the metrics topic, keyed by source, with their values
            assertThat(producer.history()).hasSize(2);
            ProducerRecord<byte[], byte[]> last = producer.history().get(1);
            assertThat(last.topic()).isEqualTo("run7.metrics");
            assertThat(new String(last.key(), StandardCharsets.UTF_8)).isEqualTo("sandbox-1");
            Metric decoded = topic.valueSerde().deserialize(last.topic(), last.value());
            assertThat(decoded.getValue()).isEqualTo(4.0);
            assertThat(decoded.getStep()).isEqualTo(12L);

            // and the gauge holds the latest value, tagged with source, run and the sample's tags
            assertThat(telemetry.scrape())
                    .contains(
                            "diffustream_sandbox_outcome_passed{run=\"run7\",slot=\"0\",source=\"sandbox-1\"}"
                                    + " 4.0");
        }
    }

    @Test
    void shouldStillPublishWhenMirroringFails() {
        // given a sink and a sample the mirror rejects (a blank name has no Prometheus name)
        MockProducer<byte[], byte[]> producer =
                new MockProducer<>(
                        true, null, new ByteArraySerializer(), new ByteArraySerializer());
        try (Telemetry telemetry = Telemetry.create()) {
            MetricSink sink =
                    new MetricSink(
                            producer,
                            new Topics("", new InMemorySchemaRegistry()).metrics(),
                            "r",
                            "learner",
                            telemetry);

            // when it emits that sample
            sink.emit(" ", 0.01, 1L, 1L);

            // then the sample still reaches the topic, and no gauge was made of it
            assertThat(producer.history()).hasSize(1);
            assertThat(telemetry.scrape()).doesNotContain("diffustream_");
        }
    }
}

package dev.diffustream.schemas.kafka;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.telemetry.Telemetry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes {@link Metric} samples to the {@code metrics} topic, keyed by source. Fire and forget:
 * a lost metric sample must never stall or fail a service. Every sample is also mirrored into the
 * process's Prometheus gauges ({@link Telemetry#mirror}).
 */
public final class MetricSink {
    private static final Logger LOG = LoggerFactory.getLogger(MetricSink.class);

    private final Producer<byte[], byte[]> producer;
    private final Topic<Metric> topic;
    private final String runId;
    private final String source;
    private final byte[] key;
    private final Telemetry telemetry;

    public MetricSink(
            Producer<byte[], byte[]> producer, Topic<Metric> topic, String runId, String source) {
        this(producer, topic, runId, source, Telemetry.global());
    }

    /** A sink mirroring into {@code telemetry} instead of the process-wide one. */
    public MetricSink(
            Producer<byte[], byte[]> producer,
            Topic<Metric> topic,
            String runId,
            String source,
            Telemetry telemetry) {
        this.telemetry = telemetry;
        this.producer = producer;
        this.topic = topic;
        this.runId = runId;
        this.source = source;
        this.key = source.getBytes(StandardCharsets.UTF_8);
    }

    /** Emits one sample. */
    public void emit(String name, double value, Long step, Long policyVersion) {
        emit(name, value, step, policyVersion, Map.of());
    }

    /** Emits one sample with tags. */
    public void emit(
            String name, double value, Long step, Long policyVersion, Map<String, String> tags) {
        Metric metric =
                Metric.newBuilder()
                        .setRunId(runId)
                        .setSource(source)
                        .setName(name)
                        .setValue(value)
                        .setStep(step)
                        .setPolicyVersion(policyVersion)
                        .setTags(Map.copyOf(tags))
                        .setTimestamp(Instant.now())
                        .build();
        try {
            telemetry.mirror(runId, source, name, value, tags);
        } catch (RuntimeException e) {
            LOG.debug("metric {} not mirrored: {}", name, e.toString());
        }
        try {
            producer.send(
                    new ProducerRecord<>(
                            topic.name(), key, topic.valueSerde().serialize(topic.name(), metric)),
                    (meta, e) -> {
                        if (e != null) {
                            LOG.debug("metric {} not sent: {}", name, e.toString());
                        }
                    });
        } catch (RuntimeException e) {
            LOG.warn("metric {} not sent: {}", name, e.toString());
        }
    }

    /** Source name of this sink. */
    public String source() {
        return source;
    }
}

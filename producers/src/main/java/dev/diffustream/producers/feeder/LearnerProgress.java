package dev.diffustream.producers.feeder;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.serde.RecordDecoder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Follows the learner's {@code learner/groups_settled} metric on the {@code metrics} topic: how
 * many groups it has taken from {@code advantages}, trained or skipped. The feeder paces itself on
 * it. Pacing is advisory — it bounds how far sampling runs ahead, it never decides what is trained
 * — so a live metric (published every few seconds, even while the learner waits for a full batch
 * behind groups the advantage topology dropped) is the right signal, rather than the step log,
 * which only moves when a batch commits.
 */
public final class LearnerProgress implements AutoCloseable {

    /** The metric the learner publishes. */
    public static final String METRIC = "learner/groups_settled";

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final RecordDecoder<Metric> decoder;
    private final String runId;
    private long consumed;

    public LearnerProgress(KafkaConfig kafka, Topic<Metric> topic, String runId) {
        Map<String, Object> props = Clients.consumer(kafka, "feeder-progress-" + runId, null);
        this.consumer = new KafkaConsumer<>(props);
        List<PartitionInfo> infos = consumer.partitionsFor(topic.name(), Duration.ofSeconds(30));
        List<TopicPartition> tps =
                infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        this.decoder = new RecordDecoder<>(topic);
        this.runId = runId;
    }

    /** Reads whatever is new and returns the groups the learner has consumed so far. */
    public long consumedGroups(Duration wait) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(wait)) {
            try {
                Metric m = decoder.value(r);
                if (METRIC.equals(m.getName()) && runId.equals(m.getRunId())) {
                    consumed = Math.max(consumed, (long) m.getValue());
                }
            } catch (RuntimeException e) {
                // a poison metric cannot pace us; the dashboard reports it
            }
        }
        return consumed;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}

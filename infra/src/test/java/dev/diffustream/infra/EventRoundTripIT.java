package dev.diffustream.infra;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.TopicDef;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.serde.RecordDecoder;
import dev.diffustream.schemas.testing.Samples;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** Every event type through a real broker and the registry stand-in. */
class EventRoundTripIT {

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void shouldRoundTripEveryEventTypeThroughTheBrokerAndTheRegistry() {
        // given the run's topics on the test cluster
        TestCluster cluster = TestCluster.shared();
        KafkaConfig kafka = cluster.newKafkaConfig("roundtrip");
        cluster.createTopics(kafka);
        Topics topics = cluster.topics(kafka);
        List<SpecificRecord> samples = Samples.oneOfEach();
        assertThat(samples).hasSize(Topics.ALL.size());

        for (SpecificRecord sample : samples) {
            TopicDef<?> def =
                    Topics.ALL.stream()
                            .filter(d -> d.valueType() == sample.getClass())
                            .findFirst()
                            .orElseThrow();
            Topic topic = topics.bind(def);

            // when a sample is produced with the topic's serde
            byte[] value = topic.valueSerde().serialize(topic.name(), sample);
            cluster.produce(
                    kafka,
                    List.of(
                            new ProducerRecord<>(
                                    topic.name(), "k".getBytes(StandardCharsets.UTF_8), value)));

            // then it is consumed back equal, and its schema is registered under <topic>-value
            List<ConsumerRecord<byte[], byte[]>> got =
                    cluster.consume(kafka, topic.name(), 1, Duration.ofSeconds(20));
            assertThat(got).as(def.baseName()).hasSize(1);
            Object decoded = new RecordDecoder(topic).value(got.get(0));
            assertThat(decoded).as(def.baseName()).isEqualTo(sample);
            assertThat(cluster.registry().latest(topic.name() + "-value").schema())
                    .isEqualTo(sample.getSchema());
        }
        List<String> expectedSubjects = new ArrayList<>();
        Topics.ALL.forEach(d -> expectedSubjects.add(d.name(kafka.topicPrefix()) + "-value"));
        assertThat(cluster.registry().subjects()).containsAll(expectedSubjects);
    }
}

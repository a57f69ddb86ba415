package dev.diffustream.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

class TopicBootstrapIT {

    private final TestCluster cluster = TestCluster.shared();
    private final Admin admin = cluster.admin();

    @Test
    void shouldCreateEveryTopicWithItsPartitionsAndConfigsAndDoNothingTheSecondTime()
            throws Exception {
        // given a run prefix with 3 partitions
        KafkaConfig kafka = cluster.newKafkaConfig("bootstrap", 3);

        // when the topics are bootstrapped twice
        TopicBootstrap.Result first = cluster.createTopics(kafka);
        TopicBootstrap.Result second = cluster.createTopics(kafka);

        // then all were created once
        List<String> names = Topics.ALL.stream().map(d -> d.name(kafka.topicPrefix())).toList();
        assertThat(first.created()).containsExactlyInAnyOrderElementsOf(names);
        assertThat(second.created()).isEmpty();
        assertThat(second.existing()).containsExactlyInAnyOrderElementsOf(names);

        // and partitions and configs follow the definitions
        Map<String, TopicDescription> described =
                admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
        assertThat(described.get(Topics.COMPLETIONS.name(kafka.topicPrefix())).partitions())
                .hasSize(3);
        assertThat(described.get(Topics.ADVANTAGES.name(kafka.topicPrefix())).partitions())
                .hasSize(3);
        assertThat(described.get(Topics.CHECKPOINTS.name(kafka.topicPrefix())).partitions())
                .hasSize(1);
        assertThat(described.get(Topics.TRAIN_STEPS.name(kafka.topicPrefix())).partitions())
                .hasSize(1);
        ConfigResource metrics =
                new ConfigResource(
                        ConfigResource.Type.TOPIC, Topics.METRICS.name(kafka.topicPrefix()));
        ConfigResource tasks =
                new ConfigResource(
                        ConfigResource.Type.TOPIC, Topics.TASKS.name(kafka.topicPrefix()));
        Map<ConfigResource, Config> configs =
                admin.describeConfigs(List.of(metrics, tasks)).all().get(30, TimeUnit.SECONDS);
        assertThat(configs.get(metrics).get("retention.ms").value())
                .isEqualTo(Topics.METRICS.configs().get("retention.ms"));
        assertThat(configs.get(tasks).get("retention.ms").value()).isEqualTo("-1");
    }

    @Test
    void shouldNameTheTopicsAndCountsWhenCoPartitionedTopicsDisagree() throws Exception {
        // given an executions topic with 2 partitions where the config says 3
        KafkaConfig kafka = cluster.newKafkaConfig("mismatch", 3);
        String executions = Topics.EXECUTIONS.name(kafka.topicPrefix());
        cluster.createTopic(executions, 2, Map.of());

        // when bootstrapping, then it fails naming the topic, its count and the config
        assertThatThrownBy(() -> cluster.createTopics(kafka))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("kafka.partitions=3")
                .hasMessageContaining("'" + executions + "' has 2");
        // and nothing else was created
        assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
                .doesNotContain(Topics.TASKS.name(kafka.topicPrefix()));
    }
}

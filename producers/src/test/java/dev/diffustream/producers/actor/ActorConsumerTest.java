package dev.diffustream.producers.actor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.schemas.config.KafkaConfig;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.junit.jupiter.api.Test;

/** The settings of an actor's {@code tasks} consumer (no broker needed). */
class ActorConsumerTest {

    @Test
    void shouldTakeOneTaskPerPollAndPartitionsRoundRobinWhenTheRecipeNamesNoAssignor() {
        Map<String, Object> c =
                Actor.consumerSettings(KafkaConfig.defaults(), "actor-0", "r1", 600_000);

        assertThat(c)
                .containsEntry(ConsumerConfig.GROUP_ID_CONFIG, Actor.consumerGroup("r1"))
                .containsEntry(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1)
                .containsEntry(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000)
                .containsEntry(
                        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                        RoundRobinAssignor.class.getName());
    }

    @Test
    void shouldKeepTheRecipesAssignor() {
        KafkaConfig k =
                KafkaConfig.defaults()
                        .withClient(
                                Map.of(
                                        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                                        RangeAssignor.class.getName()));

        Map<String, Object> c = Actor.consumerSettings(k, "actor-0", "r1", 600_000);

        assertThat(c)
                .containsEntry(
                        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                        RangeAssignor.class.getName());
    }
}

package dev.diffustream.schemas.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.schemas.config.KafkaConfig;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;

class ClientsTest {

    @Test
    void shouldKeepIdleConnectionsOpenLongerThanThePollIntervalWhenItIsLong() {
        KafkaConfig kafka = KafkaConfig.defaults();
        Map<String, Object> props = Clients.consumer(kafka, "c", "g");

        Clients.setMaxPollInterval(props, kafka, 600_000);

        assertThat(props)
                .containsEntry(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000)
                .containsEntry(ConsumerConfig.CONNECTIONS_MAX_IDLE_MS_CONFIG, 660_000L);
    }

    @Test
    void shouldKeepKafkasIdleDefaultWhenPollIntervalIsShort() {
        KafkaConfig kafka = KafkaConfig.defaults();
        Map<String, Object> props = Clients.consumer(kafka, "c", "g");

        Clients.setMaxPollInterval(props, kafka, 60_000);

        assertThat(props)
                .containsEntry(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 60_000)
                .containsEntry(
                        ConsumerConfig.CONNECTIONS_MAX_IDLE_MS_CONFIG,
                        Clients.DEFAULT_CONNECTIONS_MAX_IDLE_MS);
    }

    @Test
    void shouldLeaveUserSettingsAloneWhenRecipeSetsThem() {
        KafkaConfig kafka =
                KafkaConfig.defaults()
                        .withClient(
                                Map.of(
                                        ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "900000",
                                        ConsumerConfig.CONNECTIONS_MAX_IDLE_MS_CONFIG, "1000000"));
        Map<String, Object> props = Clients.consumer(kafka, "c", "g");

        Clients.setMaxPollInterval(props, kafka, 600_000);

        assertThat(props)
                .containsEntry(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "900000")
                .containsEntry(ConsumerConfig.CONNECTIONS_MAX_IDLE_MS_CONFIG, "1000000");
    }
}

package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.registry.InMemorySchemaRegistry;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class DeadLetterHandlerTest {

    @Test
    void shouldRefuseToStartWithoutTheDeadLettersTopic() {
        Topics topics = new Topics("", new InMemorySchemaRegistry());
        DeadLetterHandler handler = new DeadLetterHandler();

        assertThatThrownBy(() -> handler.configure(Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(DeadLetterHandler.TOPIC_CONFIG);
        // a topic of another type is refused too
        assertThatThrownBy(
                        () ->
                                handler.configure(
                                        Map.of(DeadLetterHandler.TOPIC_CONFIG, topics.metrics())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Topic<DeadLetter>");
    }
}

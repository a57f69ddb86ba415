package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.registry.InMemorySchemaRegistry;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class AdvantageConfigTest {

    @Test
    void shouldDefaultToTheReleaseChoices() {
        AdvantageConfig d = AdvantageConfig.defaults();
        assertThat(d.baseline()).isEqualTo(AdvantageConfig.Baseline.LEAVE_ONE_OUT);
        assertThat(d.scaleRewards()).isFalse();
        assertThat(d.minMembers()).isEqualTo(2);
        assertThat(d.zeroVariance()).isEqualTo(AdvantageConfig.ZeroVariancePolicy.DROP);
    }

    @Test
    void shouldDescribeEveryComponent() {
        assertThat(Stream.of(AdvantageConfig.class.getRecordComponents()))
                .allMatch(
                        c -> {
                            JsonPropertyDescription d =
                                    c.getAccessor().getAnnotation(JsonPropertyDescription.class);
                            return d != null && !d.value().isBlank();
                        });
    }

    @Test
    void shouldRejectBadValuesNamingTheKey() {
        assertThatThrownBy(() -> AdvantageConfig.defaults().toBuilder().minMembers(1).build())
                .hasMessageContaining("advantages.minMembers")
                .hasMessageContaining("1");
        assertThatThrownBy(() -> AdvantageConfig.defaults().toBuilder().groupDeadlineMs(0).build())
                .hasMessageContaining("advantages.groupDeadlineMs");
        assertThatThrownBy(
                        () -> AdvantageConfig.defaults().toBuilder().applicationId("a b").build())
                .hasMessageContaining("advantages.applicationId")
                .hasMessageContaining("'a b'");
    }

    @Test
    void shouldBindRecipeNamesOfEnums() throws Exception {
        // given the recipe spelling of the enums
        ObjectMapper json = new ObjectMapper();

        // then they bind to the constants
        assertThat(json.readValue("\"leave_one_out\"", AdvantageConfig.Baseline.class))
                .isEqualTo(AdvantageConfig.Baseline.LEAVE_ONE_OUT);
        assertThat(json.readValue("\"mean\"", AdvantageConfig.Baseline.class))
                .isEqualTo(AdvantageConfig.Baseline.MEAN);
        assertThat(json.readValue("\"keep\"", AdvantageConfig.ZeroVariancePolicy.class))
                .isEqualTo(AdvantageConfig.ZeroVariancePolicy.KEEP);
        assertThat(json.readValue("\"in_memory\"", AdvantageConfig.StoreType.class))
                .isEqualTo(AdvantageConfig.StoreType.IN_MEMORY);
    }

    @Test
    void shouldRunExactlyOnceWithExplicitNamesAndTheDeadLetterHandler() {
        // given
        AdvantageConfig cfg =
                AdvantageConfig.defaults().toBuilder()
                        .stateDir("/var/tmp/x")
                        .streams(Map.of("commit.interval.ms", "250"))
                        .build();
        Topics topics = new Topics("p.", new InMemorySchemaRegistry());

        // when
        Properties p = AdvantageService.streamsProperties(cfg, KafkaConfig.defaults(), topics);

        // then
        assertThat(p.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG))
                .isEqualTo(StreamsConfig.EXACTLY_ONCE_V2);
        assertThat(p.get(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG))
                .isEqualTo(true);
        assertThat(p.get(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG))
                .isEqualTo(DeadLetterHandler.class.getName());
        assertThat(((Topic<?>) p.get(DeadLetterHandler.TOPIC_CONFIG)).name())
                .isEqualTo("p.dead-letters");
        assertThat(p.get(StreamsConfig.STATE_DIR_CONFIG)).isEqualTo("/var/tmp/x");
        // the recipe's overrides come last
        assertThat(p.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)).isEqualTo("250");
    }
}

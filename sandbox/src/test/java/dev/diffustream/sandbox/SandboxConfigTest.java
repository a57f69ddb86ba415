package dev.diffustream.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.diffustream.schemas.config.RewardWeights;
import java.lang.reflect.RecordComponent;
import org.junit.jupiter.api.Test;

class SandboxConfigTest {

    @Test
    void shouldDefaultToTheSpecLimitsAndWeights() {
        SandboxConfig c = SandboxConfig.defaults();
        assertThat(c.workers()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.testTimeoutSeconds()).isEqualTo(5.0);
        assertThat(c.weights()).isEqualTo(new RewardWeights(2.0, 0.5));
        assertThat(c.strictEquality()).isTrue();
        assertThat(c.allowUnisolated()).isFalse();
        assertThat(c.maxAttempts()).isGreaterThan(1);
    }

    @Test
    void shouldDescribeEveryComponent() {
        for (RecordComponent rc : SandboxConfig.class.getRecordComponents()) {
            JsonPropertyDescription d =
                    rc.getAccessor().getAnnotation(JsonPropertyDescription.class);
            assertThat(d).as(rc.getName()).isNotNull();
            assertThat(d.value()).as(rc.getName()).isNotBlank();
        }
    }

    @Test
    void shouldRejectBadValuesNamingTheKey() {
        SandboxConfig.Builder b = SandboxConfig.defaults().toBuilder();
        assertThatThrownBy(() -> b.workers(0).build())
                .hasMessageContaining("sandbox.workers")
                .hasMessageContaining("0");
        assertThatThrownBy(() -> SandboxConfig.defaults().toBuilder().uidBase(0).build())
                .hasMessageContaining("sandbox.uidBase");
        assertThatThrownBy(
                        () ->
                                SandboxConfig.defaults().toBuilder()
                                        .testTimeoutSeconds(10)
                                        .executionTimeoutSeconds(5)
                                        .build())
                .hasMessageContaining("sandbox.executionTimeoutSeconds");
        assertThatThrownBy(() -> SandboxConfig.defaults().toBuilder().memoryMb(8).build())
                .hasMessageContaining("sandbox.memoryMb");
        assertThatThrownBy(() -> SandboxConfig.defaults().toBuilder().maxAttempts(0).build())
                .hasMessageContaining("sandbox.maxAttempts");
    }

    @Test
    void shouldCopyWithChangesThroughTheBuilder() {
        SandboxConfig c =
                SandboxConfig.defaults().toBuilder().workers(3).strictEquality(false).build();
        assertThat(c.workers()).isEqualTo(3);
        assertThat(c.strictEquality()).isFalse();
        assertThat(c.testTimeoutSeconds()).isEqualTo(SandboxConfig.defaults().testTimeoutSeconds());
    }
}

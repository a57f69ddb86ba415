package dev.diffustream.producers.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ActorConfigTest {

    @Test
    void shouldAcceptDefaultsWhenUnchanged() {
        ActorConfig d = ActorConfig.defaults();
        assertThat(d.sync()).isFalse();
        assertThat(d.loadAttempts()).isGreaterThanOrEqualTo(1);
        assertThat(d.maxPollIntervalMs()).isGreaterThanOrEqualTo(10_000);
    }

    @Test
    void shouldNameKeyAndValueWhenValueIsBad() {
        assertThatThrownBy(() -> new ActorConfig(-1, false, 1, 0, 10_000))
                .hasMessageContaining("actor.maxPolicyLag must be >= 0, got -1");
        assertThatThrownBy(() -> new ActorConfig(0, false, 0, 0, 10_000))
                .hasMessageContaining("actor.loadAttempts must be >= 1, got 0");
        assertThatThrownBy(() -> new ActorConfig(0, false, 1, -5, 10_000))
                .hasMessageContaining("actor.loadBackoffMs must be >= 0, got -5");
        assertThatThrownBy(() -> new ActorConfig(0, false, 1, 0, 9_999))
                .hasMessageContaining("actor.maxPollIntervalMs must be >= 10000, got 9999");
    }

    @Test
    void shouldAcceptBoundaryValuesWhenAtTheLimits() {
        ActorConfig c = new ActorConfig(0, true, 1, 0, 10_000);
        assertThat(c.maxPolicyLag()).isZero();
        assertThat(c.sync()).isTrue();
    }

    @Test
    void shouldNameGroupsSortablyWhenSequencesGrow() {
        // given group ids of increasing feed sequences
        List<String> ids = new ArrayList<>();
        for (long seq : new long[] {0, 9, 10, 99, 100, 12_345, 9_999_999}) {
            ids.add(Actor.groupId("run-1", seq));
        }

        // then they sort as the sequences do and keep the run id as prefix
        assertThat(ids).isSorted();
        assertThat(ids.get(1)).isEqualTo("run-1/0000009");
        assertThat(ids).allMatch(id -> id.startsWith("run-1/"));
        assertThat(Actor.consumerGroup("run-1")).isNotEqualTo(Actor.consumerGroup("run-2"));
    }
}

package dev.diffustream.producers.feeder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.infra.config.ConfigLoader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FeederConfigTest {

    @Test
    void shouldAcceptDefaultsWhenUnchanged() {
        FeederConfig d = FeederConfig.defaults();
        assertThat(d.suite()).isEqualTo("builtin");
        assertThat(Feeder.split(d.split())).isNotNull();
        assertThat(d.maxAheadGroups()).isPositive();
    }

    @Test
    void shouldNameKeyAndValueWhenValueIsBad() {
        assertThatThrownBy(() -> new FeederConfig(" ", "train", 1, 0, 0, 1, 10))
                .hasMessageContaining("feeder.suite");
        assertThatThrownBy(() -> new FeederConfig("builtin", "train", 0, 0, 0, 1, 10))
                .hasMessageContaining("feeder.epochs must be >= 1, got 0");
        assertThatThrownBy(() -> new FeederConfig("builtin", "train", 1, 0, -3, 1, 10))
                .hasMessageContaining("feeder.maxTasks must be >= 0, got -3");
        assertThatThrownBy(() -> new FeederConfig("builtin", "train", 1, -1, 0, 1, 10))
                .hasMessageContaining("feeder.poolSize must be >= 0");
        assertThatThrownBy(() -> new FeederConfig("builtin", "train", 1, 0, 0, 0, 10))
                .hasMessageContaining("feeder.maxAheadGroups must be >= 1, got 0");
        assertThatThrownBy(() -> new FeederConfig("builtin", "train", 1, 0, 0, 1, 9))
                .hasMessageContaining("feeder.pacingPollMs must be >= 10, got 9");
        assertThatThrownBy(() -> new FeederConfig("builtin", "validation", 1, 0, 0, 1, 10))
                .hasMessageContaining(
                        "feeder.split must be one of train, heldout, test; got 'validation'");
        assertThat(new FeederConfig("builtin", " HeldOut ", 1, 0, 0, 1, 10).split())
                .isEqualTo(" HeldOut ");
    }

    @Test
    void shouldBindRecipeSectionWhenLoaded() {
        // given a recipe section overriding three keys
        FeederConfig cfg =
                ConfigLoader.of(FeederConfig.class)
                        .load("epochs: 3\nmaxAheadGroups: 8\nmaxTasks: 100\n", "test", Map.of())
                        .value();

        // then the overrides apply and the rest keeps the defaults
        assertThat(cfg.epochs()).isEqualTo(3);
        assertThat(cfg.maxAheadGroups()).isEqualTo(8);
        assertThat(cfg.maxTasks()).isEqualTo(100);
        assertThat(cfg.pacingPollMs()).isEqualTo(FeederConfig.defaults().pacingPollMs());
    }

    @Test
    void shouldRejectInvalidValueWhenLoadedFromRecipe() {
        assertThatThrownBy(
                        () ->
                                ConfigLoader.of(FeederConfig.class)
                                        .load("maxAheadGroups: 0\n", "test", Map.of()))
                .hasStackTraceContaining("feeder.maxAheadGroups");
    }
}

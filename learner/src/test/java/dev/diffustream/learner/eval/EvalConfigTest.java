package dev.diffustream.learner.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EvalConfigTest {

    @Test
    void shouldAcceptDefaultsWhenUnchanged() {
        EvalConfig d = EvalConfig.defaults();
        assertThat(d.split()).isEqualTo("heldout");
        assertThat(d.samples()).isPositive();
    }

    @Test
    void shouldNameKeyAndValueWhenValueIsBad() {
        assertThatThrownBy(() -> new EvalConfig("", "heldout", 0, 1, 0, 1, 1, 0, 0))
                .hasMessageContaining("eval.suite");
        assertThatThrownBy(() -> new EvalConfig("builtin", "heldout", -1, 1, 0, 1, 1, 0, 0))
                .hasMessageContaining("eval.tasks must be >= 0, got -1");
        assertThatThrownBy(() -> new EvalConfig("builtin", "heldout", 0, 0, 0, 1, 1, 0, 0))
                .hasMessageContaining("eval.samples must be >= 1, got 0");
        assertThatThrownBy(() -> new EvalConfig("builtin", "heldout", 0, 1, -0.5, 1, 1, 0, 0))
                .hasMessageContaining("eval.temperature must be >= 0, got -0.5");
        assertThatThrownBy(() -> new EvalConfig("builtin", "heldout", 0, 1, Double.NaN, 1, 1, 0, 0))
                .hasMessageContaining("eval.temperature")
                .hasMessageContaining("NaN");
        assertThatThrownBy(() -> new EvalConfig("builtin", "heldout", 0, 1, 0, 0, 1, 0, 0))
                .hasMessageContaining("eval.batchRows must be >= 1, got 0");
        assertThatThrownBy(() -> new EvalConfig("builtin", "heldout", 0, 1, 0, 1, 1, -1, 0))
                .hasMessageContaining("eval.everyVersions must be >= 0, got -1");
        assertThatThrownBy(() -> new EvalConfig("builtin", "dev", 0, 1, 0, 1, 1, 0, 0))
                .hasMessageContaining("eval.split must be one of train, heldout, test; got 'dev'");
        assertThatThrownBy(() -> new EvalConfig("builtin", "heldout", 0, 1, 0, 1, 1, 0, -2))
                .hasMessageContaining("eval.threads must be >= 0, got -2");
    }

    @Test
    void shouldKeepOtherSettingsWhenCountsReplaced() {
        EvalConfig base = new EvalConfig("builtin:3", "test", 0, 1, 0.0, 16, 99L, 4, 0);
        EvalConfig c = base.with(20, 10, 0.8);
        assertThat(c).isEqualTo(new EvalConfig("builtin:3", "test", 20, 10, 0.8, 16, 99L, 4, 0));
        assertThatThrownBy(() -> base.with(1, 0, 0.8)).hasMessageContaining("eval.samples");
    }
}

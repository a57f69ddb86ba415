package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The cache key of local mode's baseline evaluation: what changes the result, nothing else. */
class BaselineKeyTest {
    private static String key(String yaml, int tasks) {
        Recipe r = Recipe.loader().load(yaml, "test", Map.of()).value();
        return LocalRun.baselineKey(r, r.eval(), tasks);
    }

    @Test
    void shouldKeepTheKeyWhenOnlyTheScheduleThreadsOrRolloutTemperatureChange() {
        String base = key("eval: {everyVersions: 16, threads: 2}\n", 300);

        assertThat(key("eval: {everyVersions: 1000000, threads: 1, tasks: 50}\n", 300))
                .isEqualTo(base);
        assertThat(key("eval: {everyVersions: 16, threads: 2}\nsampler: {temperature: 0.7}\n", 300))
                .isEqualTo(base);
    }

    @Test
    void shouldChangeTheKeyWhenAnythingTheEvaluationReadsChanges() {
        String base = key("eval: {everyVersions: 16}\n", 300);

        assertThat(key("eval: {everyVersions: 16}\n", 100)).isNotEqualTo(base);
        assertThat(key("eval: {everyVersions: 16, temperature: 0.5}\n", 300)).isNotEqualTo(base);
        assertThat(key("eval: {everyVersions: 16, seed: 9}\n", 300)).isNotEqualTo(base);
        assertThat(key("eval: {everyVersions: 16}\nsampler: {steps: 16}\n", 300))
                .isNotEqualTo(base);
        assertThat(key("eval: {everyVersions: 16}\npolicy: {systemPrompt: other}\n", 300))
                .isNotEqualTo(base);
    }
}

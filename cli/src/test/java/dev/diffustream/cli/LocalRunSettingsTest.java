package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.streams.AdvantageConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings local mode resolves for its run: the topology's state directory, the sync learner's
 * threads, the warning about actors and task partitions.
 */
class LocalRunSettingsTest {
    @TempDir Path runDir;

    private static Recipe recipe(String yaml) {
        return Recipe.loader().load(yaml, "test", Map.of()).value();
    }

    @Test
    void shouldKeepTheStateInTheRunDirectoryWhenTheRecipeNamesNone() {
        AdvantageConfig cfg = LocalRun.streamsConfig(recipe("run: {id: r1}\n"), runDir);

        assertThat(Path.of(cfg.stateDir()))
                .isAbsolute()
                .isEqualTo(runDir.resolve(LocalRun.STREAMS_STATE).toAbsolutePath());
        // the run's application id is kept
        assertThat(cfg.applicationId()).endsWith("-r1");
    }

    @Test
    void shouldKeepTheRecipesStateDirectory() {
        AdvantageConfig cfg =
                LocalRun.streamsConfig(
                        recipe("run: {id: r1}\nadvantages: {stateDir: /var/lib/ds}\n"), runDir);

        assertThat(cfg.stateDir()).isEqualTo("/var/lib/ds");
    }

    @Test
    void shouldGiveASyncLearnerEveryProcessorUnlessTheRecipeSetsItsThreads() {
        int cpus = Runtime.getRuntime().availableProcessors();

        assertThat(
                        LocalRun.withSyncLearnerThreads(recipe("run: {id: r1}\n"), true)
                                .learner()
                                .threads())
                .isEqualTo(cpus);
        assertThat(
                        LocalRun.withSyncLearnerThreads(recipe("run: {id: r1}\n"), false)
                                .learner()
                                .threads())
                .isZero();
        assertThat(
                        LocalRun.withSyncLearnerThreads(
                                        recipe("run: {id: r1}\nlearner: {threads: 3}\n"), true)
                                .learner()
                                .threads())
                .isEqualTo(3);
    }

    @Test
    void shouldRejectOptionsThatCannotMakeARunAndNameTheOption() {
        // the defaults are accepted
        assertThat(options(30, 0, 2, 2, 10).minutes()).isEqualTo(30);

        // each bad value is refused with the option's name and the value given
        assertThatThrownBy(() -> options(-1, 0, 2, 2, 10))
                .isInstanceOf(CliException.class)
                .hasMessageContaining("--minutes")
                .hasMessageContaining("-1.0");
        assertThatThrownBy(() -> options(0, 0, 2, 2, 10)).hasMessageContaining("--minutes");
        assertThatThrownBy(() -> options(Double.NaN, 0, 2, 2, 10))
                .hasMessageContaining("--minutes");
        assertThatThrownBy(() -> options(30, -2, 2, 2, 10)).hasMessageContaining("--steps");
        assertThatThrownBy(() -> options(30, 0, 0, 2, 10)).hasMessageContaining("--actors");
        assertThatThrownBy(() -> options(30, 0, 2, 0, 10)).hasMessageContaining("--sandboxes");
        assertThatThrownBy(() -> options(30, 0, 2, 2, 0)).hasMessageContaining("--status-every");
    }

    private LocalRun.Options options(
            double minutes, long steps, int actors, int sandboxes, int statusEvery) {
        return new LocalRun.Options(
                minutes, steps, actors, sandboxes, false, runDir, true, statusEvery);
    }

    @Test
    void shouldWarnWhenTheActorsCannotShareTheTaskPartitionsEvenly() {
        // 4 partitions and 1, 2 or 4 actors: every actor owns the same number of partitions
        assertThat(LocalRun.partitionAdvice(4, 1)).isEmpty();
        assertThat(LocalRun.partitionAdvice(4, 2)).isEmpty();
        assertThat(LocalRun.partitionAdvice(4, 4)).isEmpty();
        // 3 actors on 4 partitions: one actor samples 2 tasks of every 4, the others 1
        assertThat(LocalRun.partitionAdvice(4, 3))
                .hasValueSatisfying(
                        m ->
                                assertThat(m)
                                        .contains("some sample 2 tasks of every 4, others 1")
                                        .contains("kafka.partitions"));
        // 6 actors on 4 partitions: two get nothing
        assertThat(LocalRun.partitionAdvice(4, 6))
                .hasValueSatisfying(m -> assertThat(m).contains("2 actors will get no tasks"));
    }
}

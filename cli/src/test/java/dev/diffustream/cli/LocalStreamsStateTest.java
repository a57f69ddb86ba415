package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.streams.AdvantageConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where local mode keeps the topology's state: in the run directory unless the recipe says. */
class LocalStreamsStateTest {
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
}

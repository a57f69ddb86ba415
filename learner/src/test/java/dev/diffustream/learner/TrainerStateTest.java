package dev.diffustream.learner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerStateTest {

    @TempDir Path dir;

    @Test
    void shouldReadBackEveryFieldWhenWrittenToCheckpointDirectory() throws IOException {
        // given the state of a trained checkpoint
        TrainerState state =
                new TrainerState("run-1", 3, 24, 12, 50, "ab".repeat(32), 2, "cd".repeat(32));

        // when written and read back
        state.write(dir);
        TrainerState back = TrainerState.read(dir);

        // then nothing is lost, and the file uses HF's key names
        assertThat(back).isEqualTo(state);
        String json = Files.readString(dir.resolve(TrainerState.FILE));
        assertThat(json)
                .contains(
                        "\"run_id\"",
                        "\"global_step\" : 24",
                        "\"groups_consumed\" : 50",
                        "\"parent_version\" : 2",
                        "\"config_hash\"");
    }

    @Test
    void shouldKeepInitialCheckpointMarkersWhenRoundTripped() throws IOException {
        TrainerState initial = new TrainerState("r", 0, 0, 0, 0, "00".repeat(32), -1, "");
        initial.write(dir);
        assertThat(TrainerState.read(dir)).isEqualTo(initial);
    }

    @Test
    void shouldNameDirectoryAndFileWhenStateIsMissing() {
        assertThatThrownBy(() -> TrainerState.read(dir))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining(TrainerState.FILE);
    }
}

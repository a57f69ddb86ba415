package dev.diffustream.learner;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The learner's counters saved with every checkpoint ({@code trainer_state.json}, after HF's file
 * of the same name): enough to resume exactly where the checkpoint stands.
 *
 * @param runId run
 * @param version policy version of the checkpoint
 * @param step optimizer steps taken
 * @param batch batches trained
 * @param groupsConsumed groups taken from {@code advantages} (trained or skipped)
 * @param configHash sha256 of the resolved recipe
 * @param parentVersion version this one was trained from (-1 for the initial checkpoint)
 * @param parentSha256 its weights sha256 ("" for the initial checkpoint)
 */
public record TrainerState(
        @JsonProperty("run_id") String runId,
        @JsonProperty("version") long version,
        @JsonProperty("global_step") long step,
        @JsonProperty("batch") long batch,
        @JsonProperty("groups_consumed") long groupsConsumed,
        @JsonProperty("config_hash") String configHash,
        @JsonProperty("parent_version") long parentVersion,
        @JsonProperty("parent_sha256") String parentSha256) {

    public static final String FILE = "trainer_state.json";

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public void write(Path dir) throws IOException {
        JSON.writeValue(dir.resolve(FILE).toFile(), this);
    }

    public static TrainerState read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException("checkpoint " + dir + " has no " + FILE);
        }
        return JSON.readValue(file.toFile(), TrainerState.class);
    }
}

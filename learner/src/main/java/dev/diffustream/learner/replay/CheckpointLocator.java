package dev.diffustream.learner.replay;

import dev.diffustream.learner.Learner;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.store.CheckpointStore;
import dev.diffustream.schemas.avro.Checkpoint;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Finds the files of a recorded checkpoint, if they still exist: older checkpoints are pruned by
 * the learner ({@code learner.keepCheckpoints}), only their sha256 stays in the log.
 */
@FunctionalInterface
public interface CheckpointLocator {

    /** The directory holding {@code checkpoint}'s weights, or empty if they are gone. */
    Optional<Path> locate(Checkpoint checkpoint);

    /**
     * Looks at the checkpoint's URI in {@code store} first, then under each of {@code roots} by the
     * learner's naming ({@code vNNNNNN}), e.g. a run directory that was moved or copied.
     */
    static CheckpointLocator of(CheckpointStore store, List<Path> roots) {
        return c -> {
            if (store != null) {
                try {
                    Path dir = store.fetch(URI.create(c.getUri()));
                    if (hasWeights(dir)) {
                        return Optional.of(dir);
                    }
                } catch (IOException | IllegalArgumentException e) {
                    // not there (pruned, moved, or another store's URI): try the roots
                }
            }
            for (Path root : roots) {
                Path dir = root.resolve(Learner.checkpointName(c.getVersion()));
                if (hasWeights(dir)) {
                    return Optional.of(dir);
                }
            }
            return Optional.empty();
        };
    }

    private static boolean hasWeights(Path dir) {
        return Files.isRegularFile(dir.resolve(HfCheckpoint.CONFIG_FILE))
                && (Files.isRegularFile(dir.resolve(HfCheckpoint.SINGLE_FILE))
                        || Files.isRegularFile(dir.resolve(HfCheckpoint.INDEX_FILE)));
    }
}

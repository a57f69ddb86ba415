package dev.diffustream.policy.store;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/**
 * Where checkpoint directories live, addressed by URI. {@link LocalCheckpointStore} serves a local
 * or shared directory ({@code file://}); an object store would implement the same two operations
 * (upload a finished directory, materialise one locally).
 */
public interface CheckpointStore {

    /** Writes a checkpoint directory's files. */
    @FunctionalInterface
    interface DirectoryWriter {
        void write(Path dir) throws IOException;
    }

    /**
     * Writes checkpoint {@code name} (e.g. {@code v000012}) atomically: readers either see the
     * complete directory or nothing.
     *
     * @return the URI under which it can be fetched
     */
    URI put(String name, DirectoryWriter writer) throws IOException;

    /** A local directory holding the checkpoint at {@code uri} (downloaded if remote). */
    Path fetch(URI uri) throws IOException;

    /** Deletes checkpoints beyond the newest {@code keep}, never those in {@code pinned}. */
    void prune(int keep, java.util.Set<String> pinned) throws IOException;
}

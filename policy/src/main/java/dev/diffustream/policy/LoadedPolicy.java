package dev.diffustream.policy;

import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.checkpoint.WeightsDigest;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.tokenizer.Tokenizer;
import dev.diffustream.policy.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A policy loaded from a checkpoint directory: model, tokenizer, version and weights sha256.
 *
 * @param model the weights
 * @param tokenizer the checkpoint's tokenizer
 * @param version policy version (0 = starting checkpoint)
 * @param sha256 {@link WeightsDigest} of the weights
 * @param dir where it was loaded from
 */
public record LoadedPolicy(
        PolicyModel model, Tokenizer tokenizer, long version, String sha256, Path dir)
        implements AutoCloseable {

    /**
     * Loads {@code dir} and checks its weights against {@code expectedSha256} (skipped when {@code
     * null}).
     *
     * @throws IOException if the directory is incomplete or the digest does not match (a partial or
     *     corrupted copy: the caller may retry)
     */
    public static LoadedPolicy load(
            Path dir, DeviceConfig device, boolean trainable, long version, String expectedSha256)
            throws IOException {
        String onDisk = HfCheckpoint.sha256(dir);
        if (expectedSha256 != null && !expectedSha256.isEmpty() && !expectedSha256.equals(onDisk)) {
            throw new IOException(
                    "checkpoint "
                            + dir
                            + " has weights sha256 "
                            + onDisk
                            + " but version "
                            + version
                            + " was published as "
                            + expectedSha256);
        }
        Tokenizer tokenizer = Tokenizers.load(dir);
        PolicyModel model = HfCheckpoint.load(dir, device, trainable);
        return new LoadedPolicy(model, tokenizer, version, onDisk, dir);
    }

    @Override
    public void close() {
        model.close();
    }
}

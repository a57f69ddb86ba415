package dev.diffustream.cli.pipeline;

import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A fresh, untrained starting checkpoint small enough that sampling a group and training a batch
 * take milliseconds: E = 32, one layer, two heads. Its rewards are all 0, which is why the crash
 * tests keep zero-variance groups ({@code advantages.zeroVariance=keep}).
 */
public final class TinyPolicy {
    private TinyPolicy() {}

    public static ModelConfig config() {
        return ModelConfig.builder()
                .hiddenSize(32)
                .intermediateSize(64)
                .numHiddenLayers(1)
                .numAttentionHeads(2)
                .numKeyValueHeads(1)
                .build();
    }

    /** Writes the checkpoint (HF layout with the standard character tokenizer) into {@code dir}. */
    public static Path write(Path dir) throws IOException {
        DeviceRuntime.initialize(DeviceConfig.defaults());
        try (PolicyModel model = PolicyModel.create(config())) {
            HfCheckpoint.save(model, CharTokenizer.standard(), dir);
        }
        return dir;
    }
}

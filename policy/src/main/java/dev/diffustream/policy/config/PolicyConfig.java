package dev.diffustream.policy.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.diffustream.policy.DeviceConfig;

/**
 * Which weights a run starts from and where they run (recipe section {@code policy}).
 *
 * <p>The starting checkpoint is a Hugging Face-layout directory (our tiny pretrained model, or a
 * real Dream/DiffuCoder checkpoint). It is policy version 0 and the initial reference model.
 */
public record PolicyConfig(
        @JsonPropertyDescription(
                        "Starting checkpoint directory (HF layout). Empty in local mode: the tiny"
                                + " model is pretrained or taken from the cache.")
                String init,
        @JsonPropertyDescription("Device, dtype and PyTorch thread counts.") DeviceConfig device,
        @JsonPropertyDescription(
                        "System turn of the ChatML prompt (spec A.1: 'You are a helpful"
                                + " assistant.'); empty for none.")
                String systemPrompt) {

    public PolicyConfig {
        init = init == null ? "" : init;
        if (device == null) {
            throw new IllegalArgumentException("policy.device must be set");
        }
        systemPrompt = systemPrompt == null ? "" : systemPrompt;
    }

    public static PolicyConfig defaults() {
        return new PolicyConfig("", DeviceConfig.defaults(), "You are a helpful assistant.");
    }

    /** A copy starting from another checkpoint. */
    public PolicyConfig withInit(String dir) {
        return new PolicyConfig(dir, device, systemPrompt);
    }
}

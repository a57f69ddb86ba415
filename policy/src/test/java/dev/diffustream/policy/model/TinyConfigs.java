package dev.diffustream.policy.model;

import dev.diffustream.policy.DeviceConfig;

/** Small configs for fast tests: weights large enough (std 0.5) that every path moves logits. */
final class TinyConfigs {

    private TinyConfigs() {}

    /** V=11, E=16, H=4, Hk=2 (g=2), I=24, L=2, untied, with q/k/v bias. */
    static ModelConfig gqa() {
        return ModelConfig.builder()
                .vocabSize(11)
                .hiddenSize(16)
                .numAttentionHeads(4)
                .numKeyValueHeads(2)
                .intermediateSize(24)
                .numHiddenLayers(2)
                .ropeTheta(10.0)
                .initializerRange(0.5)
                .maskTokenId(10)
                .padTokenId(0)
                .bosTokenId(null)
                .eosTokenId(1)
                .initSeed(7)
                .device(DeviceConfig.defaults())
                .build();
    }
}

package dev.diffustream.policy.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Dream diffusion-sampling settings (recipe section {@code sampler}; spec D.1). Mirrors Dream's
 * {@code DreamGenerationConfig} with "off" spelled as values rather than {@code None}: {@code topP
 * = 1.0} and {@code topK = 0} disable filtering, {@code algTemp = 0} picks the top-n positions
 * deterministically. Defaults are the DiffuCoder RL rollout settings (spec A.1, A.13).
 *
 * <p>[DIVERGENCE] rollout temperature: the release YAML uses 1.0 (the default here), the paper 1.2
 * (spec A.1, A.15.4).
 */
public record SamplerConfig(
        @JsonPropertyDescription(
                        "Unmasking order: origin, maskgit_plus, topk_margin or entropy (rollout:"
                                + " entropy).")
                RemaskingAlgorithm alg,
        @JsonPropertyDescription(
                        "Sampling temperature; 0 = greedy argmax (release rollout 1.0, paper 1.2).")
                double temperature,
        @JsonPropertyDescription("Nucleus (top-p) threshold in (0, 1]; 1.0 = off (rollout 0.95).")
                double topP,
        @JsonPropertyDescription("Top-k filtering; 0 = off.") int topK,
        @JsonPropertyDescription(
                        "Temperature of the confidence-based position choice; 0 = top-n by"
                                + " confidence, > 0 = positions sampled without replacement.")
                double algTemp,
        @JsonPropertyDescription("Number of diffusion steps (rollout 256).") int steps,
        @JsonPropertyDescription("Completion length K in tokens (rollout 256).") int maxNewTokens,
        @JsonPropertyDescription(
                        "Final time of the schedule tau = linspace(1, eps, steps + 1) (Dream"
                                + " 1e-3).")
                double eps) {

    public SamplerConfig {
        if (alg == null) {
            throw new IllegalArgumentException("sampler.alg must be set");
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException(
                    "sampler.temperature must be finite and >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("sampler.topP must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("sampler.topK must be >= 0 (0 = off), got " + topK);
        }
        if (!(algTemp >= 0) || Double.isInfinite(algTemp)) {
            throw new IllegalArgumentException(
                    "sampler.algTemp must be finite and >= 0, got " + algTemp);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("sampler.steps must be >= 1, got " + steps);
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException(
                    "sampler.maxNewTokens must be >= 1, got " + maxNewTokens);
        }
        if (!(eps > 0 && eps < 1)) {
            throw new IllegalArgumentException("sampler.eps must be in (0, 1), got " + eps);
        }
    }

    /** The DiffuCoder RL rollout: entropy, T = 1.0, top-p 0.95, 256 steps for 256 tokens. */
    public static SamplerConfig defaults() {
        return new SamplerConfig(RemaskingAlgorithm.ENTROPY, 1.0, 0.95, 0, 0.0, 256, 256, 1e-3);
    }

    /** A copy with another temperature (top-p kept). */
    public SamplerConfig withTemperature(double t) {
        return new SamplerConfig(alg, t, topP, topK, algTemp, steps, maxNewTokens, eps);
    }

    /** A copy with another completion length and step count. */
    public SamplerConfig withLength(int newTokens, int newSteps) {
        return new SamplerConfig(alg, temperature, topP, topK, algTemp, newSteps, newTokens, eps);
    }

    /** A copy with another unmasking algorithm. */
    public SamplerConfig withAlg(RemaskingAlgorithm a) {
        return new SamplerConfig(a, temperature, topP, topK, algTemp, steps, maxNewTokens, eps);
    }
}

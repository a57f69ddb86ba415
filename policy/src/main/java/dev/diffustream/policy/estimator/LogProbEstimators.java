package dev.diffustream.policy.estimator;

import dev.diffustream.policy.config.GrpoConfig;

/** Builds the estimator a {@link GrpoConfig} names. */
public final class LogProbEstimators {

    private LogProbEstimators() {}

    /**
     * @param config the GRPO settings (estimator kind, t range, d1's prompt-mask probability)
     * @param maskId the tokenizer's mask id
     */
    public static LogProbEstimator create(GrpoConfig config, int maskId) {
        return switch (config.estimator()) {
            case COUPLED ->
                    new CoupledEstimator(maskId, config.maskRatioMin(), config.maskRatioMax());
            case DECOUPLED ->
                    new DecoupledEstimator(maskId, config.maskRatioMin(), config.maskRatioMax());
            case D1 -> new D1Estimator(maskId, config.pMaskPrompt(), 1);
        };
    }
}

package dev.diffustream.policy.estimator;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.model.MaskedLm;

/**
 * A per-token log-probability estimator for a masked-diffusion policy: for each completion token
 * y_k of each row, an estimate of log π(y_k | context) from one or more masked forward passes.
 *
 * <p>Dimension letters: B rows, P prompt length, K completion length, L = P + K, V vocabulary, R =
 * {@link #passes()}·B model rows.
 *
 * <p>All variants share the scoring convention of spec A.5: the prompt is the context, the logit
 * row P+k−1 scores y_k (shifted logits), the log-softmax is taken in float32 and the target token
 * gathered. Each row's noise comes from its own mask seed ({@link ScoringBatch}); all passes are
 * stacked into <b>one</b> forward call of R rows.
 */
public interface LogProbEstimator {

    /** Short name: {@code coupled}, {@code d1}, {@code decoupled}. */
    String name();

    /** Forward passes per sequence (model rows per input row). */
    int passes();

    /**
     * Per-token estimates.
     *
     * @param model the policy (or reference) model
     * @param batch sequences and one mask seed per row
     * @param manager the returned array is attached to it; temporaries are closed
     * @return (B, K) float32; differentiable w.r.t. the model's parameters when called inside a
     *     {@code GradientCollector}. For old, reference and behaviour estimates pass a model that
     *     never records autograd ({@code PolicyModel.inference()}): PyTorch's grad mode is per
     *     thread and on by default on threads other than the one that loaded the engine.
     */
    NDArray estimate(MaskedLm model, ScoringBatch batch, NDManager manager);
}

package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;

/**
 * A bidirectional masked-diffusion language model, seen from the sampler and the estimators.
 *
 * <p>Dimension letters: B batch, T sequence length, V vocabulary.
 *
 * <p>Logit convention (spec A.5, D.4): the model keeps the next-token alignment of the AR model it
 * was adapted from, so <b>row j of the returned logits predicts the token at position j+1</b>.
 * Callers shift: the prediction for position j is read from row j-1. There is no causal mask.
 */
public interface MaskedLm {

    /**
     * Runs the model.
     *
     * @param tokens (B, T) int32 token ids (masked positions hold the tokenizer's mask id)
     * @param attentionMask (B, T) with 1 for real tokens and 0 for (left) padding, or {@code null}
     *     for full bidirectional attention with positions 0..T-1. When given, padded positions
     *     neither attend nor are attended and position ids are pad-aware ({@code cumsum(mask) - 1};
     *     spec D.2).
     * @return (B, T, V) float32 logits, unshifted (row j predicts token j+1). Recorded for autograd
     *     when called inside a {@code GradientCollector} with trainable parameters.
     */
    NDArray logits(NDArray tokens, NDArray attentionMask);

    /** V: the size of the output distribution. */
    int vocabSize();
}

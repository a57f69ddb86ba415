package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Bidirectional grouped-query self-attention of Qwen2/Dream: q/k/v projections with bias, rotary
 * positions, <b>no causal mask</b> (spec D.4: Dream sets {@code is_causal=False}), softmax(q·kᵀ/√D
 * + bias)·v, output projection without bias.
 *
 * <p>Dimensions: B batch, T sequence, E model width, H query heads, Hk key/value heads, g = H/Hk
 * query heads per key/value head, Ht = H + 2·Hk, D head dim (E = H·D).
 *
 * <p>Cost-driven layout (a native op costs microseconds on our 2 cores): q, k and v come from
 * <b>one</b> matmul with the fused weight [W_q; W_k; W_v] ((H+2·Hk)·D, E), concatenated when a
 * checkpoint is loaded and split again when one is saved; RoPE is applied to the fused tensor at
 * once (see {@link RotaryEmbedding}); and grouped-query attention uses no repeat of k/v: the g
 * query heads sharing a key/value head are folded into the query-length axis, (B, Hk, g·T, D), so
 * one batched matmul serves all heads. Query head h uses key/value head h / g, as in HF {@code
 * repeat_kv}.
 *
 * <p>Inputs: x (B, T, E) normalised hidden states, cos and signed sin tables (1 or B, T, Ht, D),
 * optionally a key bias (B, 1, 1, T). Output: (B, T, E).
 */
public final class GqaAttention extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int hidden;
    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;
    private final Parameter qkvWeight;
    private final Parameter qkvBias;
    private final Parameter outWeight;

    private GqaAttention(Builder b) {
        super(VERSION);
        hidden = b.hidden;
        numHeads = b.numHeads;
        numKvHeads = b.numKvHeads;
        headDim = b.hidden / b.numHeads;
        qkvWeight =
                addParameter(
                        Parameter.builder()
                                .setName("qkv_weight")
                                .setType(Parameter.Type.WEIGHT)
                                .build());
        qkvBias =
                b.bias
                        ? addParameter(
                                Parameter.builder()
                                        .setName("qkv_bias")
                                        .setType(Parameter.Type.BIAS)
                                        .build())
                        : null;
        outWeight =
                addParameter(
                        Parameter.builder()
                                .setName("o_weight")
                                .setType(Parameter.Type.WEIGHT)
                                .build());
    }

    /** Fused [W_q; W_k; W_v] ((H+2·Hk)·D, E). */
    public Parameter qkvWeight() {
        return qkvWeight;
    }

    /** Fused [b_q; b_k; b_v] ((H+2·Hk)·D), or {@code null} without attention bias. */
    public Parameter qkvBias() {
        return qkvBias;
    }

    /** W_o (E, H·D). */
    public Parameter outWeight() {
        return outWeight;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.get(0); // (B, T, E)
        NDArray cos = inputs.get(1); // (1|B, T, Ht, D)
        NDArray sin = inputs.get(2); // (1|B, T, Ht, D)
        NDArray keyBias = inputs.size() > 3 ? inputs.get(3) : null; // (B, 1, 1, T)
        NDArray w = store.getValue(qkvWeight, x.getDevice(), training); // (Ht·D, E)
        NDArray b = // (Ht·D) or none
                qkvBias == null ? null : store.getValue(qkvBias, x.getDevice(), training);
        NDArray wo = store.getValue(outWeight, x.getDevice(), training); // (E, H·D)

        Shape s = x.getShape();
        long batch = s.get(0);
        long len = s.get(1);
        int groups = numHeads / numKvHeads;
        int heads = numHeads + 2 * numKvHeads;

        NDArray qkv = x.getNDArrayInternal().linear(x, w, b).singletonOrThrow(); // (B, T, Ht·D)
        qkv = qkv.reshape(batch, len, heads, headDim); // (B, T, Ht, D)
        qkv = RotaryEmbedding.apply(qkv, cos, sin); // (B, T, Ht, D), q pre-scaled by 1/√D
        NDList parts = qkv.split(new long[] {numHeads, numHeads + numKvHeads}, 2);
        NDArray q = parts.get(0); // (B, T, H, D)
        NDArray k = parts.get(1); // (B, T, Hk, D)
        NDArray v = parts.get(2); // (B, T, Hk, D)

        q =
                q.reshape(batch, len, numKvHeads, groups, headDim) // (B, T, Hk, g, D)
                        .transpose(0, 2, 3, 1, 4) // (B, Hk, g, T, D)
                        .reshape(batch, numKvHeads, groups * len, headDim); // (B, Hk, g·T, D)
        NDArray kT = k.transpose(0, 2, 3, 1); // (B, Hk, D, T)
        v = v.transpose(0, 2, 1, 3); // (B, Hk, T, D)

        NDArray scores = q.matMul(kT); // (B, Hk, g·T, T), already scaled by 1/√D
        if (keyBias != null) {
            scores = scores.add(keyBias); // (B, Hk, g·T, T): padded keys → −big
        }
        NDArray probs = scores.softmax(-1); // (B, Hk, g·T, T)
        NDArray context = probs.matMul(v); // (B, Hk, g·T, D)
        context =
                context.reshape(batch, numKvHeads, groups, len, headDim) // (B, Hk, g, T, D)
                        .transpose(0, 3, 1, 2, 4) // (B, T, Hk, g, D)
                        .reshape(batch, len, (long) numHeads * headDim); // (B, T, H·D)
        NDArray out = // (B, T, E)
                context.getNDArrayInternal().linear(context, wo, null).singletonOrThrow();
        return new NDList(out); // (B, T, E)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    public String toString() {
        return "GqaAttention(E="
                + hidden
                + ", H="
                + numHeads
                + ", Hk="
                + numKvHeads
                + ", D="
                + headDim
                + ", bias="
                + (qkvBias != null)
                + ")";
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: {@code setHidden}, {@code setHeads}, {@code setKvHeads} required. */
    public static final class Builder {
        private int hidden = -1;
        private int numHeads = -1;
        private int numKvHeads = -1;
        private boolean bias = true;

        private Builder() {}

        /** E. */
        public Builder setHidden(int hidden) {
            this.hidden = hidden;
            return this;
        }

        /** H. */
        public Builder setHeads(int heads) {
            this.numHeads = heads;
            return this;
        }

        /** Hk. */
        public Builder setKvHeads(int kvHeads) {
            this.numKvHeads = kvHeads;
            return this;
        }

        /** Whether q/k/v have a bias (default true, as in Qwen2). */
        public Builder optBias(boolean bias) {
            this.bias = bias;
            return this;
        }

        public GqaAttention build() {
            if (hidden <= 0 || numHeads <= 0 || numKvHeads <= 0) {
                throw new IllegalArgumentException(
                        "GqaAttention needs E, H, Hk > 0, got E="
                                + hidden
                                + ", H="
                                + numHeads
                                + ", Hk="
                                + numKvHeads);
            }
            if (hidden % numHeads != 0 || (hidden / numHeads) % 2 != 0) {
                throw new IllegalArgumentException(
                        "GqaAttention needs E divisible by H with an even head dim, got E="
                                + hidden
                                + ", H="
                                + numHeads);
            }
            if (numHeads % numKvHeads != 0) {
                throw new IllegalArgumentException(
                        "GqaAttention needs H a multiple of Hk, got H="
                                + numHeads
                                + ", Hk="
                                + numKvHeads);
            }
            return new GqaAttention(this);
        }
    }
}

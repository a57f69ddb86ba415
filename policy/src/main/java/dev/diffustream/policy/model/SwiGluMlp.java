package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The SwiGLU MLP of Qwen2/Dream: {@code down(silu(gate(x)) ⊙ up(x))}, no biases. Gate and up come
 * from one matmul with the fused weight [W_gate; W_up] (2·I, E), concatenated when a checkpoint is
 * loaded and split again when one is saved.
 *
 * <p>Dimensions: B batch, T sequence, E model width, I intermediate width.
 *
 * <p>Input: x (B, T, E). Output: (B, T, E).
 */
public final class SwiGluMlp extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int hidden;
    private final int intermediate;
    private final Parameter gateUpWeight;
    private final Parameter downWeight;

    private SwiGluMlp(Builder b) {
        super(VERSION);
        hidden = b.hidden;
        intermediate = b.intermediate;
        gateUpWeight =
                addParameter(
                        Parameter.builder()
                                .setName("gate_up_weight")
                                .setType(Parameter.Type.WEIGHT)
                                .build());
        downWeight =
                addParameter(
                        Parameter.builder()
                                .setName("down_weight")
                                .setType(Parameter.Type.WEIGHT)
                                .build());
    }

    /** Fused [W_gate; W_up] (2·I, E). */
    public Parameter gateUpWeight() {
        return gateUpWeight;
    }

    /** W_down (E, I). */
    public Parameter downWeight() {
        return downWeight;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow(); // (B, T, E)
        NDArray wgu = store.getValue(gateUpWeight, x.getDevice(), training); // (2I, E)
        NDArray wd = store.getValue(downWeight, x.getDevice(), training); // (E, I)
        NDArray gateUp = x.getNDArrayInternal().linear(x, wgu, null).singletonOrThrow(); // (B,T,2I)
        NDList halves = gateUp.split(2, 2); // gate | up along the last axis
        NDArray gate = halves.get(0); // (B, T, I)
        NDArray up = halves.get(1); // (B, T, I)
        NDArray act = gate.mul(gate.getNDArrayInternal().sigmoid()).mul(up); // (B, T, I) silu⊙up
        NDArray out = act.getNDArrayInternal().linear(act, wd, null).singletonOrThrow(); // (B,T,E)
        return new NDList(out); // (B, T, E)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    public String toString() {
        return "SwiGluMlp(E=" + hidden + ", I=" + intermediate + ")";
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: {@code setHidden} and {@code setIntermediate} required. */
    public static final class Builder {
        private int hidden = -1;
        private int intermediate = -1;

        private Builder() {}

        /** E. */
        public Builder setHidden(int hidden) {
            this.hidden = hidden;
            return this;
        }

        /** I. */
        public Builder setIntermediate(int intermediate) {
            this.intermediate = intermediate;
            return this;
        }

        public SwiGluMlp build() {
            if (hidden <= 0 || intermediate <= 0) {
                throw new IllegalArgumentException(
                        "SwiGluMlp needs E, I > 0, got E=" + hidden + ", I=" + intermediate);
            }
            return new SwiGluMlp(this);
        }
    }
}

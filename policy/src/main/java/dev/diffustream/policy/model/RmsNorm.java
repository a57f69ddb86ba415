package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Root-mean-square layer norm (Qwen2/Dream {@code RMSNorm}): {@code y = w ⊙ x / sqrt(mean(x²) +
 * ε)}, computed in float32 whatever the activation dtype (as the reference implementation does),
 * with no mean subtraction and no bias.
 *
 * <p>Dimensions: B batch, T sequence, E normalised width (the last axis).
 *
 * <p>Inputs: {@code x} (…, E). Output: (…, E) in the dtype of {@code x}.
 */
public final class RmsNorm extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int size;
    private final float eps;
    private final Parameter weight;
    // ε as a float32 scalar on the parameter's device, created once: a scalar made per call would
    // cost an extra native op every forward.
    private volatile NDArray epsilon;

    private RmsNorm(Builder builder) {
        super(VERSION);
        size = builder.size;
        eps = builder.eps;
        weight =
                addParameter(
                        Parameter.builder()
                                .setName("weight")
                                .setType(Parameter.Type.GAMMA)
                                .build());
    }

    /** The scale vector w (E). */
    public Parameter weight() {
        return weight;
    }

    /** E. */
    public int size() {
        return size;
    }

    /** ε. */
    public float eps() {
        return eps;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow(); // (…, E)
        NDArray w = store.getValue(weight, x.getDevice(), training); // (E)
        return new NDList(apply(x, w));
    }

    /** The norm of {@code x} (…, E) with scale {@code w} (E). */
    NDArray apply(NDArray x, NDArray w) {
        boolean upcast = x.getDataType() != DataType.FLOAT32;
        NDArray x32 = upcast ? x.toType(DataType.FLOAT32, false) : x; // (…, E) fp32
        NDArray meanSquare = x32.square().mean(new int[] {-1}, true); // (…, 1)
        NDArray rms = meanSquare.add(epsilon(w)).sqrt(); // (…, 1)
        NDArray normed = x32.div(rms); // (…, E)
        if (upcast) {
            normed = normed.toType(x.getDataType(), false); // (…, E) back to activation dtype
        }
        return normed.mul(w); // (…, E)
    }

    private NDArray epsilon(NDArray w) {
        NDArray e = epsilon;
        if (e == null) {
            synchronized (this) {
                e = epsilon;
                if (e == null) {
                    e = w.getManager().create(eps); // () fp32, lives as long as the parameters
                    epsilon = e;
                }
            }
        }
        return e;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    public String toString() {
        return "RmsNorm(" + size + ", eps=" + eps + ")";
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: {@code setSize} is required, {@code optEps} defaults to 1e-6. */
    public static final class Builder {
        private int size = -1;
        private float eps = 1e-6f;

        private Builder() {}

        /** E: the normalised width. */
        public Builder setSize(int size) {
            this.size = size;
            return this;
        }

        /** ε added to the mean square. */
        public Builder optEps(double eps) {
            this.eps = (float) eps;
            return this;
        }

        public RmsNorm build() {
            if (size <= 0) {
                throw new IllegalArgumentException("RmsNorm size must be > 0, got " + size);
            }
            if (!(eps > 0)) {
                throw new IllegalArgumentException("RmsNorm eps must be > 0, got " + eps);
            }
            return new RmsNorm(this);
        }
    }
}

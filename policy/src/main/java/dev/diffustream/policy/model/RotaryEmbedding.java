package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding in the Hugging Face "rotate_half" convention (Qwen2/Dream), so that
 * real checkpoints work: for a head vector x = [x₁ | x₂] (two halves of D/2) at position p,
 *
 * <pre>
 *   rope(x) = x ⊙ cos(θ_p) + rotate_half(x) ⊙ sin(θ_p),   rotate_half(x) = [−x₂ | x₁],
 *   θ_p = [p·f | p·f],  f_i = theta^(−2i/D), i = 0 … D/2−1.
 * </pre>
 *
 * To keep the op count low the tables are prepared once per forward for the <b>whole fused q/k/v
 * tensor</b> (Ht = H + 2·Hk heads): rotate_half is applied as {@code swap(x) ⊙ sinSigned} with
 * {@code swap(x) = [x₂ | x₁]} and {@code sinSigned = [−sin | sin]}; the value heads get cos = 1 and
 * sin = 0 (left unchanged), and the query heads are pre-multiplied by 1/√D, the attention scale.
 *
 * <p>Dimensions: B batch, T sequence, H query heads, Hk key/value heads, Ht = H + 2·Hk, D head dim.
 */
final class RotaryEmbedding implements AutoCloseable {

    private final NDManager manager;
    private final int headDim;
    private final DataType dtype;
    private final NDArray invFreq; // (D/2) fp32
    private final NDArray headScale; // (Ht, 1) fp32: 1/√D for q heads, 1 for k, 0 for v
    private final NDArray cosShift; // (Ht, 1) fp32: 1 for v heads, 0 otherwise
    private final NDArray one; // () fp32
    private final NDArray two; // () fp32
    private final NDArray bigNegative; // () fp32: the bias of a padded key

    RotaryEmbedding(
            NDManager parent,
            int numHeads,
            int numKvHeads,
            int headDim,
            double theta,
            DataType dtype) {
        this.manager = parent.newSubManager();
        this.headDim = headDim;
        this.dtype = dtype;
        int half = headDim / 2;
        float[] freq = new float[half];
        for (int i = 0; i < half; i++) {
            // HF: 1 / theta^(2i/D) in float32.
            freq[i] = (float) (1.0 / Math.pow(theta, (2.0 * i) / headDim));
        }
        invFreq = manager.create(freq); // (D/2)
        int total = numHeads + 2 * numKvHeads;
        float[] scale = new float[total];
        float[] shift = new float[total];
        float qScale = (float) (1.0 / Math.sqrt(headDim));
        for (int h = 0; h < total; h++) {
            if (h < numHeads) {
                scale[h] = qScale;
            } else if (h < numHeads + numKvHeads) {
                scale[h] = 1f;
            } else {
                shift[h] = 1f;
            }
        }
        headScale = manager.create(scale, new Shape(total, 1)); // (Ht, 1)
        cosShift = manager.create(shift, new Shape(total, 1)); // (Ht, 1)
        one = manager.create(1f); // ()
        two = manager.create(2f); // ()
        // Finite, so that a row without any real key cannot produce NaN; fits in float16.
        bigNegative = manager.create(dtype == DataType.FLOAT16 ? 3.0e4f : 1.0e9f); // ()
    }

    /**
     * Tables for positions 0 … T−1 shared by every row. Built per forward (about ten small ops): a
     * cache would have to outlive concurrent forwards of other lengths.
     *
     * @param like any array of the forward; the tables are created in its manager
     * @return cos (1, T, Ht, D) and signed sin (1, T, Ht, D) in the compute dtype
     */
    NDList tables(int seqLen, NDArray like) {
        NDArray positions = like.getManager().arange(0f, seqLen, 1f).expandDims(0); // (1, T) fp32
        return build(positions);
    }

    /**
     * Pad-aware tables (spec D.2): position = cumsum(mask) − 1 on real tokens, 1 on padding.
     *
     * @param mask (B, T) float32, 1 for real tokens and 0 for left padding
     * @return cos (B, T, Ht, D) and signed sin (B, T, Ht, D) in the manager of {@code mask}
     */
    NDList tables(NDArray mask) {
        NDArray positions = mask.cumSum(1).sub(two).mul(mask).add(one); // (B, T) fp32
        return build(positions);
    }

    /** The additive attention bias of {@code mask}: 0 for real keys, a large negative for pads. */
    NDArray keyBias(NDArray mask) {
        NDArray bias = mask.sub(one).mul(bigNegative); // (B, T): 0 or −big
        Shape s = mask.getShape();
        return bias.reshape(s.get(0), 1, 1, s.get(1)).toType(dtype, false); // (B, 1, 1, T)
    }

    /** {@code [x₂ | x₁]}: the two halves of the last axis swapped. */
    static NDArray swapHalves(NDArray x) {
        Shape s = x.getShape(); // (…, D)
        int n = s.dimension();
        long[] split = new long[n + 1];
        for (int i = 0; i < n - 1; i++) {
            split[i] = s.get(i);
        }
        split[n - 1] = 2;
        split[n] = s.get(n - 1) / 2;
        return x.reshape(split).flip(n - 1).reshape(s); // (…, 2, D/2) flipped → (…, D)
    }

    /** {@code x ⊙ cos + swap(x) ⊙ sinSigned}: RoPE on q and k, identity on v, q scaled by 1/√D. */
    static NDArray apply(NDArray qkv, NDArray cos, NDArray sin) {
        return qkv.mul(cos).add(swapHalves(qkv).mul(sin)); // (B, T, Ht, D)
    }

    private NDList build(NDArray positions) {
        NDArray freqs = positions.expandDims(-1).mul(invFreq); // (N, T, D/2)
        NDArray cosHalf = freqs.cos(); // (N, T, D/2)
        NDArray sinHalf = freqs.sin(); // (N, T, D/2)
        NDArray cos = cosHalf.concat(cosHalf, -1).expandDims(-2); // (N, T, 1, D)
        NDArray sin = sinHalf.neg().concat(sinHalf, -1).expandDims(-2); // (N, T, 1, D)
        NDArray cosQkv = cos.mul(headScale).add(cosShift).toType(dtype, false); // (N, T, Ht, D)
        NDArray sinQkv = sin.mul(headScale).toType(dtype, false); // (N, T, Ht, D)
        return new NDList(cosQkv, sinQkv);
    }

    int headDim() {
        return headDim;
    }

    @Override
    public void close() {
        manager.close();
    }
}

package dev.diffustream.policy.estimator;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.diffustream.policy.model.TorchMemory;

/**
 * The completion loss mask of spec A.2: m[b,k] = 1 for k ≤ e_b, where e_b is the index of the first
 * {@code <|im_end|>} in row b (or K − 1 when there is none: every token counts). The EOS itself is
 * inside the mask; tokens after it stay in the scored sequence but out of the loss. Only {@code
 * <|im_end|>} ends a completion (spec A.15.10), its id taken from the tokenizer.
 */
public final class CompletionMask {

    private CompletionMask() {}

    /** The mask as floats [B][K] (1 in the loss, 0 after the first {@code <|im_end|>}). */
    public static float[][] of(int[][] completions, int imEndId) {
        float[][] out = new float[completions.length][];
        for (int b = 0; b < completions.length; b++) {
            int[] row = completions[b];
            out[b] = new float[row.length];
            for (int k = 0; k < row.length; k++) {
                out[b][k] = 1f;
                if (row[k] == imEndId) {
                    break;
                }
            }
        }
        return out;
    }

    /** The mask as a (B, K) float32 array attached to {@code manager}. */
    public static NDArray of(int[][] completions, int imEndId, NDManager manager) {
        float[][] mask = of(completions, imEndId);
        int rows = mask.length;
        int k = rows == 0 ? 0 : mask[0].length;
        float[] flat = new float[rows * k];
        for (int b = 0; b < rows; b++) {
            if (mask[b].length != k) {
                throw new IllegalArgumentException(
                        "completion row "
                                + b
                                + " has length "
                                + mask[b].length
                                + ", expected "
                                + k);
            }
            System.arraycopy(mask[b], 0, flat, b * k, k);
        }
        return TorchMemory.upload(manager, flat, new Shape(rows, k)); // (B, K)
    }
}

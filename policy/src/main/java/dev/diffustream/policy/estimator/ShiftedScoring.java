package dev.diffustream.policy.estimator;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.diffustream.policy.model.MaskedLm;
import dev.diffustream.policy.model.TorchMemory;

/**
 * The shared scoring step of every estimator and of the pretraining loss: one forward call over R =
 * passes·B noisy copies of the batch, shifted logits, float32 log-softmax, gather of the target
 * token, and a weighted sum over passes (spec A.5, A.6).
 *
 * <pre>
 *   lp[r, k]  = log_softmax(logits[r, P+k−1, :])[y_{r mod B, k}]          (R, K)
 *   out[b, k] = Σ_c W[c·B + b, k] · lp[c·B + b, k]                         (B, K)
 * </pre>
 *
 * About a dozen tensor ops besides the forward: the noisy tokens, targets and weights are built in
 * Java and uploaded once each, into torch-owned memory: autograd keeps the tokens, targets and
 * weights for the backward pass after this method has closed their handles ({@link TorchMemory}).
 */
public final class ShiftedScoring {

    private ShiftedScoring() {}

    /**
     * @param model the model
     * @param batch the clean sequences (targets and attention mask come from here)
     * @param noisy R·L token ids, row-major: pass c, row b at row index c·B + b
     * @param weights R·K weights for the per-pass log-probs
     * @param passes R / B
     * @param manager the (B, K) result is attached to it
     */
    public static NDArray weightedLogProbs(
            MaskedLm model,
            ScoringBatch batch,
            int[] noisy,
            float[] weights,
            int passes,
            NDManager manager) {
        int rows = batch.rows();
        int p = batch.promptLength();
        int k = batch.completionLength();
        int len = p + k;
        int r = passes * rows;
        if (noisy.length != r * len || weights.length != r * k) {
            throw new IllegalArgumentException(
                    "noisy tokens must be R*L = "
                            + r * len
                            + " and weights R*K = "
                            + r * k
                            + ", got "
                            + noisy.length
                            + " and "
                            + weights.length);
        }
        long[] targets = new long[r * k];
        for (int c = 0; c < passes; c++) {
            for (int b = 0; b < rows; b++) {
                for (int j = 0; j < k; j++) {
                    targets[(c * rows + b) * k + j] = batch.completionToken(b, j);
                }
            }
        }
        int[] att = batch.tiledAttention(passes);
        NDArray result;
        try (NDManager sm = manager.newSubManager()) {
            NDArray tokens = TorchMemory.upload(sm, noisy, new Shape(r, len)); // (R, L)
            NDArray attention =
                    att == null ? null : TorchMemory.upload(sm, att, new Shape(r, len)); // (R, L)
            NDArray logits = model.logits(tokens, attention); // (R, L, V)
            logits.attach(sm);
            NDArray rowsForCompletion =
                    logits.get(":, " + (p - 1) + ":" + (len - 1) + ", :"); // (R, K, V)
            if (rowsForCompletion.getDataType() != DataType.FLOAT32) {
                rowsForCompletion = rowsForCompletion.toType(DataType.FLOAT32, false);
            }
            NDArray logProbs = rowsForCompletion.logSoftmax(2); // (R, K, V) fp32
            NDArray target = TorchMemory.upload(sm, targets, new Shape(r, k, 1)); // (R, K, 1)
            NDArray lp = logProbs.gather(target, 2).reshape(r, k); // (R, K)
            NDArray w = TorchMemory.upload(sm, weights, new Shape(r, k)); // (R, K)
            result = lp.mul(w).reshape(passes, rows, k).sum(new int[] {0}); // (B, K)
            result.attach(manager);
        }
        return result;
    }

    /** Copies row b of the clean sequence (prompt + completion) into {@code noisy} at row index. */
    public static void copyClean(ScoringBatch batch, int b, int[] noisy, int rowIndex) {
        int p = batch.promptLength();
        int k = batch.completionLength();
        int base = rowIndex * (p + k);
        for (int j = 0; j < p; j++) {
            noisy[base + j] = batch.promptToken(b, j);
        }
        for (int j = 0; j < k; j++) {
            noisy[base + p + j] = batch.completionToken(b, j);
        }
    }
}

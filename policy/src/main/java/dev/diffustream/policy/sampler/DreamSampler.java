package dev.diffustream.policy.sampler;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.config.RemaskingAlgorithm;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.model.MaskedLm;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Dream's {@code diffusion_generate} (spec §D): start from the prompt followed by K mask tokens
 * and, over {@code steps} bidirectional forward passes, reveal masked positions in the order of the
 * chosen {@link RemaskingAlgorithm}, following the exact transfer schedule of spec D.3.
 *
 * <p>Dimension letters: G rows (the completions of a group), P prompt length (left-padded), K new
 * tokens, N = P + K, V vocabulary, M masked positions over all rows at the current step.
 *
 * <p>One step (spec D.2):
 *
 * <ol>
 *   <li>one forward pass for all G rows: logits (G, N, V);
 *   <li>the shift of spec D.4: the prediction for position j is logit row j − 1 (row 0 for j = 0),
 *       gathered only for the M still-masked positions: (M, V);
 *   <li>SAMPLE: divide by the temperature, nucleus filter with Dream's shifted-by-one rule (the
 *       first token that crosses top-p is kept), top-k, softmax, draw x0 (or argmax at T = 0), and
 *       the confidence of the algorithm (probability of x0, top-1 − top-2 margin, or negative
 *       entropy), all on the tempered and filtered distribution;
 *   <li>choose the positions to reveal: origin reveals each independently with probability 1 − s/t;
 *       the others reveal the n_i most confident (or, with {@code algTemp > 0}, n_i positions
 *       sampled without replacement ∝ softmax(conf / algTemp), by the Gumbel-top-n trick).
 * </ol>
 *
 * <p>Randomness comes only from a {@link SplittableRandom} seeded with the explicit seed, drawn in
 * a fixed order (per step: one uniform per masked position for the token draw when T > 0, then one
 * per masked position for the origin reveal or the Gumbel keys), and uploaded in one array: the
 * same seed, model and prompts give the same tokens on the same machine. Token draws use the
 * inverse CDF of the filtered distribution (a token with probability 0 is never drawn).
 *
 * <p>Left-padded prompts of different lengths get an attention mask (1 real, 0 pad) and pad-aware
 * positions from the model (spec D.2); prompts of equal length run without a mask.
 */
public final class DreamSampler {

    private static final float NEG_ENTROPY_EPS = 1e-10f;

    private final SamplerConfig config;
    private final int maskId;
    private final int padId;
    private final TransferSchedule schedule;

    /**
     * @param config sampling settings (spec D.1)
     * @param maskId the tokenizer's {@code <|mask|>} id
     * @param padId the id used to left-pad shorter prompts
     */
    public DreamSampler(SamplerConfig config, int maskId, int padId) {
        this.config = Objects.requireNonNull(config, "config");
        if (maskId < 0 || padId < 0) {
            throw new IllegalArgumentException(
                    "maskId and padId must be >= 0, got " + maskId + " and " + padId);
        }
        this.maskId = maskId;
        this.padId = padId;
        this.schedule = new TransferSchedule(config.steps(), config.eps());
    }

    /** The settings this sampler runs with. */
    public SamplerConfig config() {
        return config;
    }

    /** Samples {@code groupSize} completions of one prompt in one batch. */
    public SampleResult generateGroup(MaskedLm model, int[] prompt, int groupSize, long seed) {
        if (groupSize < 1) {
            throw new IllegalArgumentException("groupSize must be >= 1, got " + groupSize);
        }
        int[][] prompts = new int[groupSize][];
        Arrays.fill(prompts, Objects.requireNonNull(prompt, "prompt"));
        return generate(model, prompts, seed);
    }

    /** Samples one completion per prompt, all rows in one batch, with a private manager. */
    public SampleResult generate(MaskedLm model, int[][] prompts, long seed) {
        try (NDManager manager = NDManager.newBaseManager()) {
            return generate(model, prompts, seed, manager);
        }
    }

    /**
     * Samples one completion per prompt, all rows in one batch. Shorter prompts are left-padded
     * with the pad id to the longest one. Temporaries live in sub-managers of {@code manager} and
     * are closed before returning.
     */
    public SampleResult generate(MaskedLm model, int[][] prompts, long seed, NDManager manager) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(manager, "manager");
        if (prompts == null || prompts.length == 0) {
            throw new IllegalArgumentException("prompts must contain at least one row");
        }
        final int vocab = model.vocabSize();
        if (config.alg() == RemaskingAlgorithm.TOPK_MARGIN && vocab < 2) {
            throw new IllegalArgumentException(
                    "topk_margin needs a vocabulary of >= 2, got " + vocab);
        }
        final int rows = prompts.length;
        int promptLen = 0;
        for (int b = 0; b < rows; b++) {
            if (prompts[b] == null) {
                throw new IllegalArgumentException("prompt row " + b + " is null");
            }
            promptLen = Math.max(promptLen, prompts[b].length);
        }
        final int k = config.maxNewTokens();
        final int n = promptLen + k;
        int[] x = new int[rows * n];
        boolean padded = false;
        for (int b = 0; b < rows; b++) {
            int[] p = prompts[b];
            int offset = promptLen - p.length;
            padded |= offset > 0;
            for (int j = 0; j < promptLen; j++) {
                int id = j < offset ? padId : p[j - offset];
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException(
                            "prompt row "
                                    + b
                                    + " has token id "
                                    + id
                                    + " outside [0, "
                                    + vocab
                                    + ")");
                }
                x[b * n + j] = id;
            }
            Arrays.fill(x, b * n + promptLen, (b + 1) * n, maskId);
        }

        boolean[][] masked = new boolean[rows][k];
        for (boolean[] r : masked) {
            Arrays.fill(r, true);
        }
        int[] maskedCount = new int[rows];
        Arrays.fill(maskedCount, k);
        int[][] order = new int[rows][k];
        int[] revealed = new int[rows];
        int[][] revealStep = new int[rows][k];
        SplittableRandom rng = new SplittableRandom(seed);

        try (NDManager root = manager.newSubManager()) {
            NDArray attention = null;
            if (padded) {
                int[] am = new int[rows * n];
                for (int b = 0; b < rows; b++) {
                    int offset = promptLen - prompts[b].length;
                    Arrays.fill(am, b * n + offset, (b + 1) * n, 1);
                }
                attention = root.create(am, new Shape(rows, n)); // (G, N)
            }
            for (int step = 0; step < schedule.steps(); step++) {
                int total = 0;
                for (int c : maskedCount) {
                    total += c;
                }
                if (total == 0) {
                    break; // origin can finish early; later steps would draw nothing
                }
                long[] rowIndex = new long[total];
                int[] rowOf = new int[total];
                int[] posOf = new int[total];
                int m = 0;
                for (int b = 0; b < rows; b++) {
                    for (int j = 0; j < k; j++) {
                        if (masked[b][j]) {
                            // spec D.4: position P+j is predicted by logit row P+j-1 (row 0 if
                            // none)
                            rowIndex[m] = (long) b * n + Math.max(promptLen + j - 1, 0);
                            rowOf[m] = b;
                            posOf[m] = j;
                            m++;
                        }
                    }
                }
                float[] tokenUniforms = null;
                if (config.temperature() > 0) {
                    tokenUniforms = new float[total];
                    for (int i = 0; i < total; i++) {
                        tokenUniforms[i] = uniformFloat(rng);
                    }
                }
                int[] x0;
                float[] conf;
                try (NDManager sm = root.newSubManager()) {
                    NDArray tokens = sm.create(x, new Shape(rows, n)); // (G, N)
                    final NDArray att = attention;
                    // sampling never needs gradients, whatever the calling thread's grad mode
                    NDArray logits =
                            DeviceRuntime.noGrad(() -> model.logits(tokens, att)); // (G, N, V)
                    logits.attach(sm);
                    NDArray masks =
                            logits.reshape(rows * (long) n, vocab) // (G·N, V)
                                    .get(sm.create(rowIndex)); // (M, V)
                    NDArray[] drawn = sample(masks, tokenUniforms, sm);
                    x0 = drawn[0].toType(DataType.INT32, false).toIntArray(); // (M)
                    conf = drawn[1].toType(DataType.FLOAT32, false).toFloatArray(); // (M)
                }
                reveal(
                        step,
                        x0,
                        conf,
                        rowOf,
                        posOf,
                        rng,
                        x,
                        n,
                        promptLen,
                        masked,
                        maskedCount,
                        order,
                        revealed,
                        revealStep);
            }
        }
        int[][] completions = new int[rows][k];
        for (int b = 0; b < rows; b++) {
            System.arraycopy(x, b * n + promptLen, completions[b], 0, k);
            if (revealed[b] != k) {
                throw new IllegalStateException(
                        "sampler left " + (k - revealed[b]) + " positions masked in row " + b);
            }
        }
        return new SampleResult(completions, order, revealStep, promptLen, schedule.steps());
    }

    /**
     * SAMPLE of spec D.2 on the masked rows (M, V): returns {x0 (M) int64, confidence (M)}.
     *
     * @param uniforms one U[0,1) per row for the inverse-CDF draw, or null when T = 0
     */
    private NDArray[] sample(NDArray logits, float[] uniforms, NDManager sm) {
        int vocab = (int) logits.getShape().get(1);
        NDArray z =
                logits.getDataType() == DataType.FLOAT32
                        ? logits
                        : logits.toType(DataType.FLOAT32, false); // (M, V)
        if (config.temperature() > 0) {
            z = z.div((float) config.temperature());
        }
        boolean topK = config.topK() > 0 && config.topK() < vocab;
        if (config.topP() < 1 || topK) {
            z = filter(z, vocab, topK, sm);
        }
        NDArray probs = z.softmax(1); // (M, V)
        NDArray x0;
        NDArray conf;
        if (uniforms != null) {
            NDArray cdf = probs.cumSum(1); // (M, V)
            NDArray total = cdf.get(":, -1:"); // (M, 1)
            NDArray u = sm.create(uniforms, new Shape(uniforms.length, 1)).mul(total); // (M, 1)
            NDArray drawn = cdf.lte(u).sum(new int[] {1}).minimum(vocab - 1); // (M) int64
            NDArray pDrawn = probs.gather(drawn.expandDims(1), 1).squeeze(1); // (M)
            // u·total may round onto the last cdf value: never return a filtered-out token
            x0 = NDArrays.where(pDrawn.gt(0f), drawn, probs.argMax(1)); // (M)
            conf = probs.gather(x0.expandDims(1), 1).squeeze(1); // (M)
        } else {
            x0 = probs.argMax(1); // (M)
            conf = probs.max(new int[] {1}); // (M)
        }
        switch (config.alg()) {
            case TOPK_MARGIN -> {
                NDArray top2 = probs.topK(2, 1, true, true).get(0); // (M, 2)
                conf = top2.get(":, 0").sub(top2.get(":, 1")); // (M)
            }
            case ENTROPY ->
                    conf =
                            probs.mul(probs.add(NEG_ENTROPY_EPS).log())
                                    .sum(new int[] {1}); // (M) negative entropy
            default -> {
                // origin, maskgit_plus: probability of the chosen token
            }
        }
        return new NDArray[] {x0, conf};
    }

    /**
     * Dream's {@code top_p_logits} then {@code top_k_logits} as one threshold per row: the kept set
     * of nucleus filtering is a prefix of the descending order whose length is 1 + #{i : cumsum_i ≤
     * top_p} (the shifted-by-one rule), and top-k keeps logits ≥ the k-th largest of what is left.
     * Removed logits become the float32 minimum. Exact ties at the threshold are all kept (PyTorch
     * keeps them in sort order).
     */
    private NDArray filter(NDArray z, int vocab, boolean topK, NDManager sm) {
        NDArray sorted = z.sort(1).flip(1); // (M, V) descending
        NDArray threshold = null;
        if (config.topP() < 1) {
            NDArray cdf = sorted.softmax(1).cumSum(1); // (M, V)
            NDArray keep =
                    cdf.lte((float) config.topP())
                            .sum(new int[] {1})
                            .add(1)
                            .minimum(vocab); // (M) int64, >= 1
            threshold = sorted.gather(keep.sub(1).expandDims(1), 1); // (M, 1)
        }
        if (topK) {
            int kk = config.topK();
            NDArray kth = sorted.get(":, " + (kk - 1) + ":" + kk); // (M, 1)
            threshold = threshold == null ? kth : threshold.maximum(kth);
        }
        return NDArrays.where(z.gte(threshold), z, sm.create(-Float.MAX_VALUE)); // (M, V)
    }

    private void reveal(
            int step,
            int[] x0,
            float[] conf,
            int[] rowOf,
            int[] posOf,
            SplittableRandom rng,
            int[] x,
            int n,
            int promptLen,
            boolean[][] masked,
            int[] maskedCount,
            int[][] order,
            int[] revealed,
            int[][] revealStep) {
        int rows = masked.length;
        int total = x0.length;
        // candidates of each row are contiguous in the flat arrays (row-major, positions ascending)
        int[] start = new int[rows + 1];
        for (int i = 0; i < total; i++) {
            start[rowOf[i] + 1]++;
        }
        for (int b = 0; b < rows; b++) {
            start[b + 1] += start[b];
        }
        if (config.alg() == RemaskingAlgorithm.ORIGIN) {
            float p = schedule.revealProbability(step);
            boolean[] chosen = new boolean[total];
            for (int i = 0; i < total; i++) {
                chosen[i] = uniformFloat(rng) < p;
            }
            for (int b = 0; b < rows; b++) {
                int count = 0;
                for (int i = start[b]; i < start[b + 1]; i++) {
                    count += chosen[i] ? 1 : 0;
                }
                Integer[] picked = new Integer[count];
                int c = 0;
                for (int i = start[b]; i < start[b + 1]; i++) {
                    if (chosen[i]) {
                        picked[c++] = i;
                    }
                }
                Arrays.sort(picked, (a, bb) -> byConfidence(conf, posOf, a, bb));
                commit(
                        b,
                        picked,
                        step,
                        x0,
                        posOf,
                        x,
                        n,
                        promptLen,
                        masked,
                        maskedCount,
                        order,
                        revealed,
                        revealStep);
            }
            return;
        }
        int perRow = maskedCount[0];
        for (int b = 1; b < rows; b++) {
            if (maskedCount[b] != perRow) {
                throw new IllegalStateException(
                        "rows have different masked counts: " + Arrays.toString(maskedCount));
            }
        }
        int take = Math.min(schedule.transferCount(step, perRow), perRow);
        double[] keys = null;
        if (config.algTemp() > 0 && take > 0) {
            keys = new double[total];
            for (int i = 0; i < total; i++) {
                // Gumbel-top-n = sampling without replacement ∝ softmax(conf / algTemp)
                double u = rng.nextDouble();
                keys[i] = conf[i] / config.algTemp() - Math.log(-Math.log(u + Double.MIN_VALUE));
            }
        }
        if (take == 0) {
            return;
        }
        for (int b = 0; b < rows; b++) {
            Integer[] cands = new Integer[start[b + 1] - start[b]];
            for (int i = 0; i < cands.length; i++) {
                cands[i] = start[b] + i;
            }
            if (keys == null) {
                Arrays.sort(cands, (a, bb) -> byConfidence(conf, posOf, a, bb));
            } else {
                final double[] kk = keys;
                Arrays.sort(
                        cands,
                        (a, bb) -> {
                            int c = Double.compare(kk[bb], kk[a]);
                            return c != 0 ? c : Integer.compare(posOf[a], posOf[bb]);
                        });
            }
            Integer[] picked = Arrays.copyOf(cands, take);
            if (keys != null) {
                Arrays.sort(picked, (a, bb) -> byConfidence(conf, posOf, a, bb));
            }
            commit(
                    b,
                    picked,
                    step,
                    x0,
                    posOf,
                    x,
                    n,
                    promptLen,
                    masked,
                    maskedCount,
                    order,
                    revealed,
                    revealStep);
        }
    }

    private static int byConfidence(float[] conf, int[] posOf, int a, int b) {
        int c = Float.compare(conf[b], conf[a]);
        return c != 0 ? c : Integer.compare(posOf[a], posOf[b]);
    }

    private static void commit(
            int b,
            Integer[] picked,
            int step,
            int[] x0,
            int[] posOf,
            int[] x,
            int n,
            int promptLen,
            boolean[][] masked,
            int[] maskedCount,
            int[][] order,
            int[] revealed,
            int[][] revealStep) {
        for (Integer i : picked) {
            int pos = posOf[i];
            x[b * n + promptLen + pos] = x0[i];
            masked[b][pos] = false;
            maskedCount[b]--;
            order[b][revealed[b]++] = pos;
            revealStep[b][pos] = step;
        }
    }

    /** A float32 uniform in [0, 1) with 24 random bits (never rounds up to 1). */
    static float uniformFloat(SplittableRandom rng) {
        return (rng.nextInt() >>> 8) * 0x1.0p-24f;
    }
}

package dev.diffustream.learner;

import ai.djl.ndarray.NDManager;
import dev.diffustream.infra.config.ConfigLoader;
import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.estimator.LogProbEstimators;
import dev.diffustream.policy.estimator.ScoringBatch;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A real tiny policy (E = 16, one layer) with the char tokenizer, and scored members for the
 * learner's unit tests. Token ids stay in 10..89, clear of the char tokenizer's special ids.
 */
public final class TinyPolicies {

    public static final CharTokenizer TOKENIZER = CharTokenizer.standard();

    /** K: completion tokens. */
    public static final int K = 8;

    private TinyPolicies() {}

    /** A fresh trainable policy; the same {@code initSeed} gives the same weights. */
    public static PolicyModel create(long initSeed) {
        DeviceConfig device = DeviceConfig.defaults();
        DeviceRuntime.initialize(device);
        ModelConfig cfg =
                ModelConfig.defaults().toBuilder()
                        .hiddenSize(16)
                        .intermediateSize(32)
                        .numHiddenLayers(1)
                        .numAttentionHeads(2)
                        .numKeyValueHeads(1)
                        .initializerRange(0.2)
                        .initSeed(initSeed)
                        .device(device)
                        .build();
        return PolicyModel.create(cfg);
    }

    /** A GRPO config from recipe YAML over the release defaults, with K = {@link #K}. */
    public static GrpoConfig grpo(String yaml) {
        return ConfigLoader.of(GrpoConfig.class)
                .load("maxCompletionLength: " + K + "\n" + yaml, "test", Map.of())
                .value();
    }

    /** {@code n} random token ids in 10..89. */
    public static int[] tokens(SplittableRandom rnd, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = 10 + rnd.nextInt(80);
        }
        return out;
    }

    /**
     * A group whose members have random prompts and completions and I mask seeds each, with
     * behaviour log-probs estimated by {@code behaviour} for those seeds plus {@code offset} (0 =
     * sampled by exactly this policy: ratio 1 at the first step).
     */
    public static GrpoTrainer.Group group(
            String id,
            long seed,
            double[] advantages,
            PolicyModel behaviour,
            GrpoConfig grpo,
            float offset) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int iterations = grpo.numIterations();
        int g = advantages.length;
        int[][] prompts = new int[g][];
        int[][] completions = new int[g][];
        long[][] seeds = new long[g][iterations];
        for (int m = 0; m < g; m++) {
            prompts[m] = tokens(rnd, 12);
            completions[m] = tokens(rnd, K);
            for (int j = 0; j < iterations; j++) {
                seeds[m][j] = rnd.nextLong() & 0x7FFF_FFFFL;
            }
        }
        float[][][] logps = new float[g][iterations][];
        for (int j = 0; j < iterations; j++) {
            long[] col = new long[g];
            for (int m = 0; m < g; m++) {
                col[m] = seeds[m][j];
            }
            float[][] est = estimate(behaviour, grpo, prompts, completions, col);
            for (int m = 0; m < g; m++) {
                for (int k = 0; k < K; k++) {
                    est[m][k] += offset;
                }
                logps[m][j] = est[m];
            }
        }
        List<GrpoTrainer.Member> members = new ArrayList<>();
        for (int m = 0; m < g; m++) {
            members.add(
                    new GrpoTrainer.Member(
                            id + "/" + m,
                            prompts[m],
                            completions[m],
                            seeds[m],
                            logps[m],
                            advantages[m],
                            0));
        }
        return new GrpoTrainer.Group(id, members);
    }

    /** Per-token estimates [rows][K] of {@code model} without autograd. */
    public static float[][] estimate(
            PolicyModel model,
            GrpoConfig grpo,
            int[][] prompts,
            int[][] completions,
            long[] seeds) {
        var estimator = LogProbEstimators.create(grpo, TOKENIZER.maskId());
        float[] flat;
        try (NDManager manager = model.manager().newSubManager()) {
            ScoringBatch batch = ScoringBatch.of(prompts, completions, seeds, TOKENIZER.padId());
            flat = estimator.estimate(model.inference(), batch, manager).toFloatArray();
        }
        float[][] out = new float[prompts.length][K];
        for (int r = 0; r < prompts.length; r++) {
            System.arraycopy(flat, r * K, out[r], 0, K);
        }
        return out;
    }

    /** The summed estimate of one member's completion for its mask seed {@code j}. */
    public static double sequenceLogProb(
            PolicyModel model, GrpoConfig grpo, GrpoTrainer.Member m, int j) {
        float[] row =
                estimate(
                        model,
                        grpo,
                        new int[][] {m.prompt()},
                        new int[][] {m.completion()},
                        new long[] {m.maskSeeds()[j]})[0];
        double sum = 0;
        for (float v : row) {
            sum += v;
        }
        return sum;
    }
}

package dev.diffustream.producers.actor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.estimator.LogProbEstimator;
import dev.diffustream.policy.estimator.LogProbEstimators;
import dev.diffustream.policy.estimator.ScoringBatch;
import dev.diffustream.policy.pretrain.PretrainData;
import dev.diffustream.policy.sampler.DreamSampler;
import dev.diffustream.policy.sampler.SampleResult;
import dev.diffustream.schemas.Seeds;

/**
 * Samples the G completions of one task with the current policy (spec §D) and scores them under
 * that same behaviour policy with the configured estimator for each of their I mask seeds (spec
 * A.3–A.7), all rows of a group in one sampler batch and one estimator call.
 *
 * <p>Seeds: the sampling seed and the mask seeds are derived from the task's seed (STYLE rule 13;
 * mask RNGs are separate from the sampling RNG and keyed by (completion, iteration)), so the same
 * task at the same policy version yields the same group, which makes an aborted and retried
 * transaction produce identical events.
 */
public final class GroupSampler {

    /** One sampled and scored group. */
    public record SampledGroup(
            int[] prompt,
            SampleResult samples,
            long samplingSeed,
            long[][] maskSeeds,
            float[][][] behaviourLogProbs,
            String[] texts) {}

    private final GrpoConfig grpo;
    private final SamplerConfig samplerConfig;
    private final String systemPrompt;

    public GroupSampler(GrpoConfig grpo, SamplerConfig sampler, String systemPrompt) {
        if (grpo.maxCompletionLength() != sampler.maxNewTokens()) {
            throw new IllegalArgumentException(
                    "grpo.maxCompletionLength ("
                            + grpo.maxCompletionLength()
                            + ") must equal sampler.maxNewTokens ("
                            + sampler.maxNewTokens()
                            + "): the learner scores exactly the sampled tokens");
        }
        this.grpo = grpo;
        this.samplerConfig = sampler;
        this.systemPrompt = systemPrompt;
    }

    /** The sampling seed of a task round. */
    public static long samplingSeed(long taskSeed) {
        return Seeds.derive(taskSeed, "sample");
    }

    /**
     * The mask seed of completion {@code member} for GRPO iteration {@code j}: a 31-bit value (the
     * release draws from [0, 4096); the width only matters for collisions).
     */
    public static long maskSeed(long taskSeed, int member, int j, boolean randomMasking) {
        if (!randomMasking) {
            return 42L; // spec A.3: the fixed list [42] * I
        }
        return Seeds.derive(taskSeed, "mask", member, j) & 0x7FFF_FFFFL;
    }

    /** Samples and scores the group of {@code userPrompt} with {@code policy}. */
    public SampledGroup sample(LoadedPolicy policy, String userPrompt, long taskSeed) {
        var tok = policy.tokenizer();
        int[] prompt =
                PretrainData.promptIds(tok, systemPrompt, userPrompt, grpo.maxPromptLength());
        int g = grpo.numGenerations();
        int iters = grpo.numIterations();
        long seed = samplingSeed(taskSeed);
        DreamSampler sampler = new DreamSampler(samplerConfig, tok.maskId(), tok.padId());
        int[][] groupPrompts = new int[g][];
        java.util.Arrays.fill(groupPrompts, prompt);
        SampleResult samples;
        try (NDManager manager = policy.model().manager().newSubManager()) {
            samples = sampler.generate(policy.model().inference(), groupPrompts, seed, manager);
        }

        long[][] maskSeeds = new long[g][iters];
        int[][] prompts = new int[g * iters][];
        int[][] completions = new int[g * iters][];
        long[] flatSeeds = new long[g * iters];
        for (int j = 0; j < iters; j++) {
            for (int m = 0; m < g; m++) {
                long s = maskSeed(taskSeed, m, j, grpo.randomMasking());
                maskSeeds[m][j] = s;
                int row = j * g + m;
                prompts[row] = prompt;
                completions[row] = samples.completions()[m];
                flatSeeds[row] = s;
            }
        }
        LogProbEstimator estimator = LogProbEstimators.create(grpo, tok.maskId());
        float[][][] logps = new float[g][iters][];
        try (NDManager manager = policy.model().manager().newSubManager()) {
            ScoringBatch batch = ScoringBatch.of(prompts, completions, flatSeeds, tok.padId());
            NDArray est =
                    estimator.estimate(policy.model().inference(), batch, manager); // (I*G, K)
            int k = samples.completionLength();
            float[] flat = est.toFloatArray();
            for (int j = 0; j < iters; j++) {
                for (int m = 0; m < g; m++) {
                    int row = j * g + m;
                    float[] r = new float[k];
                    System.arraycopy(flat, row * k, r, 0, k);
                    logps[m][j] = r;
                }
            }
        }
        String[] texts = new String[g];
        for (int m = 0; m < g; m++) {
            texts[m] = tok.decode(samples.completions()[m], true);
        }
        return new SampledGroup(prompt, samples, seed, maskSeeds, logps, texts);
    }
}

package dev.diffustream.policy.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.estimator.CompletionMask;
import dev.diffustream.policy.estimator.CoupledEstimator;
import dev.diffustream.policy.estimator.D1Estimator;
import dev.diffustream.policy.estimator.DecoupledEstimator;
import dev.diffustream.policy.estimator.LogProbEstimator;
import dev.diffustream.policy.estimator.ScoringBatch;
import dev.diffustream.policy.loss.CoupledGrpoLoss;
import dev.diffustream.policy.loss.PolicyLoss;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.pretrain.PretrainData;
import dev.diffustream.policy.pretrain.Seeds;
import dev.diffustream.policy.sampler.DreamSampler;
import dev.diffustream.policy.sampler.SampleResult;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuite;
import dev.diffustream.policy.tasks.builtin.BuiltinSuite;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import dev.diffustream.policy.tokenizer.Tokenizer;
import dev.diffustream.policy.tokenizer.Tokenizers;
import dev.diffustream.policy.train.AdamW;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * {@code diffustream bench estimator}: the cost of the Coupled-GRPO machinery on this machine and
 * the quality of the coupled estimator, printed as JSON lines.
 *
 * <ol>
 *   <li>{@code sampling}: generated tokens/s for a group of G completions ({@link SamplingBench});
 *   <li>{@code coupled_estimate}: seconds for one coupled estimate of a group (3G rows, one
 *       forward, no gradient);
 *   <li>{@code grpo_update}: seconds for one Coupled-GRPO update on a group: old and reference
 *       estimates (no gradient), the estimate with gradient, the loss of spec A.9, backward,
 *       clipping and an AdamW step (also reported without the old/ref part);
 *   <li>{@code estimator_variance}: on fixed completions (sampled once with a fixed seed), the
 *       variance across mask seeds of the sequence estimate Σ_k m_k·ℓ_k, per sequence, averaged
 *       over sequences, for coupled, decoupled and d1 <b>at equal forward passes</b> (3 each: d1
 *       averages three independent prompt masks); then the ratios to coupled. The paper claims the
 *       complementary pair lowers variance (antithetic variates, App. A.4).
 * </ol>
 *
 * d1's estimate is a different quantity (one fully masked pass, no 1/t weights), so its mean
 * differs; its variance is reported for comparison as in the paper's ablation.
 */
public final class EstimatorBench {

    /** Bench name in the JSON lines. */
    public static final String NAME = "estimator";

    /**
     * @param checkpoint an HF-layout checkpoint directory with its tokenizer, or null for a fresh
     *     model of {@code freshModel} with the character tokenizer
     * @param freshModel architecture used when there is no checkpoint
     * @param suite prompts come from its held-out split
     * @param sampler rollout settings (K = maxNewTokens)
     * @param groupSize G
     * @param prompts prompts whose groups enter the variance measurement
     * @param maskSeeds mask seeds per sequence for the variance
     * @param repeats timed repetitions of each timing
     * @param seed root seed
     */
    public record Options(
            Path checkpoint,
            ModelConfig freshModel,
            TaskSuite suite,
            SamplerConfig sampler,
            int groupSize,
            int prompts,
            int maskSeeds,
            int repeats,
            long seed) {

        public Options {
            Objects.requireNonNull(freshModel, "freshModel");
            Objects.requireNonNull(suite, "suite");
            Objects.requireNonNull(sampler, "sampler");
            if (groupSize < 2 || prompts < 1 || maskSeeds < 2 || repeats < 1) {
                throw new IllegalArgumentException(
                        "need groupSize >= 2, prompts >= 1, maskSeeds >= 2, repeats >= 1, got "
                                + groupSize
                                + ", "
                                + prompts
                                + ", "
                                + maskSeeds
                                + ", "
                                + repeats);
            }
        }

        /**
         * The tiny local-run setting: G = 8, K = 64 in 64 steps at the rollout temperature 1.0, 4
         * prompts × 32 mask seeds.
         */
        public static Options defaults(Path checkpoint) {
            SamplerConfig rollout = SamplerConfig.defaults().withLength(64, 64);
            return new Options(
                    checkpoint,
                    ModelConfig.defaults(),
                    new BuiltinSuite(),
                    rollout,
                    8,
                    4,
                    32,
                    3,
                    42L);
        }
    }

    /**
     * Variance of one estimator.
     *
     * @param estimator name
     * @param forwardPasses model rows per sequence
     * @param meanVariance mean over sequences of the unbiased variance across seeds
     * @param meanEstimate mean sequence estimate
     */
    public record Variance(
            String estimator, int forwardPasses, double meanVariance, double meanEstimate) {}

    /**
     * Everything measured.
     *
     * @param sampling the sampling measurement
     * @param coupledEstimateSeconds one coupled estimate of a group
     * @param grpoUpdateSeconds one full update including old and reference estimates
     * @param grpoStepSeconds the update without the old/reference estimates
     * @param variances coupled, decoupled, d1
     */
    public record Result(
            SamplingBench.Result sampling,
            double coupledEstimateSeconds,
            double grpoUpdateSeconds,
            double grpoStepSeconds,
            List<Variance> variances) {

        /** Variance of {@code name} over the coupled variance. */
        public double ratioToCoupled(String name) {
            double coupled = find("coupled").meanVariance();
            return find(name).meanVariance() / coupled;
        }

        private Variance find(String name) {
            return variances.stream()
                    .filter(v -> v.estimator().equals(name))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no estimator " + name));
        }
    }

    /** Runs every measurement, printing one JSON line each to {@code out}. */
    public Result run(Options options, PrintStream out) throws IOException {
        PolicyModel model;
        Tokenizer tokenizer;
        String source;
        if (options.checkpoint() != null) {
            model = HfCheckpoint.load(options.checkpoint(), options.freshModel().device(), true);
            tokenizer = Tokenizers.load(options.checkpoint());
            source = options.checkpoint().toString();
        } else {
            model = PolicyModel.create(options.freshModel());
            tokenizer = CharTokenizer.standard();
            source = "fresh";
        }
        try (model;
                PolicyModel reference = model.frozenCopy();
                NDManager manager = NDManager.newBaseManager(model.device())) {
            GrpoConfig grpo = GrpoConfig.defaults();
            SamplerConfig sampler = options.sampler();
            List<CodeTask> tasks = options.suite().load(TaskSplit.HELDOUT);
            if (tasks.size() < options.prompts()) {
                throw new IllegalArgumentException(
                        "suite "
                                + options.suite().name()
                                + " has "
                                + tasks.size()
                                + " held-out tasks, need "
                                + options.prompts());
            }
            out.println(
                    String.format(
                            Locale.ROOT,
                            "{\"bench\":\"%s\",\"name\":\"setup\",\"checkpoint\":\"%s\","
                                    + "\"parameters\":%d,\"device\":\"%s\",\"cpus\":%d}",
                            NAME,
                            source.replace("\\", "\\\\").replace("\"", "\\\""),
                            model.parameterCount(),
                            model.device(),
                            Runtime.getRuntime().availableProcessors()));
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < options.prompts(); i++) {
                prompts.add(
                        PretrainData.promptIds(
                                tokenizer,
                                "You are a helpful assistant.",
                                tasks.get(i).prompt(),
                                grpo.maxPromptLength()));
            }

            // ---- sampling throughput
            SamplingBench.Result sampling =
                    SamplingBench.measure(
                            model.inference(),
                            prompts.get(0),
                            sampler,
                            tokenizer.maskId(),
                            tokenizer.padId(),
                            options.groupSize(),
                            options.repeats(),
                            options.seed());
            out.println(sampling.toJson(NAME));

            // ---- fixed completions, one group per prompt
            DreamSampler dream = new DreamSampler(sampler, tokenizer.maskId(), tokenizer.padId());
            List<int[][]> groups = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                SampleResult r =
                        dream.generateGroup(
                                model.inference(),
                                prompts.get(i),
                                options.groupSize(),
                                Seeds.mix(options.seed(), 0xC0L, i));
                groups.add(r.completions());
            }

            // ---- one coupled estimate of a group
            CoupledEstimator coupled =
                    new CoupledEstimator(
                            tokenizer.maskId(), grpo.maskRatioMin(), grpo.maskRatioMax());
            ScoringBatch group0 =
                    ScoringBatch.group(
                            prompts.get(0),
                            groups.get(0),
                            seedsFor(options, 0, 0, options.groupSize()));
            coupled.estimate(model.inference(), group0, manager).close(); // warm-up
            long t0 = System.nanoTime();
            for (int i = 0; i < options.repeats(); i++) {
                coupled.estimate(model.inference(), group0, manager).close();
            }
            double estimateSeconds = (System.nanoTime() - t0) / 1e9 / options.repeats();
            out.println(
                    String.format(
                            Locale.ROOT,
                            "{\"bench\":\"%s\",\"name\":\"coupled_estimate\",\"rows\":%d,"
                                    + "\"forwardRows\":%d,\"sequenceLength\":%d,\"seconds\":%.4f}",
                            NAME,
                            group0.rows(),
                            3 * group0.rows(),
                            group0.sequenceLength(),
                            estimateSeconds));

            // ---- one Coupled-GRPO update on a group
            double[] update =
                    timeUpdates(
                            model, reference, coupled, group0, tokenizer, grpo, options, manager);
            out.println(
                    String.format(
                            Locale.ROOT,
                            "{\"bench\":\"%s\",\"name\":\"grpo_update\",\"rows\":%d,"
                                    + "\"secondsWithOldAndRef\":%.4f,\"secondsStepOnly\":%.4f}",
                            NAME,
                            group0.rows(),
                            update[0],
                            update[1]));

            // ---- estimator variance at equal forward passes
            List<LogProbEstimator> estimators =
                    List.of(
                            coupled,
                            new DecoupledEstimator(
                                    tokenizer.maskId(), grpo.maskRatioMin(), grpo.maskRatioMax()),
                            new D1Estimator(tokenizer.maskId(), grpo.pMaskPrompt(), 3));
            List<Variance> variances = new ArrayList<>();
            for (LogProbEstimator est : estimators) {
                Variance v = variance(est, model, prompts, groups, tokenizer, options, manager);
                variances.add(v);
                out.println(
                        String.format(
                                Locale.ROOT,
                                "{\"bench\":\"%s\",\"name\":\"estimator_variance\","
                                        + "\"estimator\":\"%s\",\"forwardPasses\":%d,"
                                        + "\"sequences\":%d,\"maskSeeds\":%d,"
                                        + "\"meanVariance\":%.6g,\"meanEstimate\":%.6g}",
                                NAME,
                                v.estimator(),
                                v.forwardPasses(),
                                prompts.size() * options.groupSize(),
                                options.maskSeeds(),
                                v.meanVariance(),
                                v.meanEstimate()));
            }
            Result result = new Result(sampling, estimateSeconds, update[0], update[1], variances);
            out.println(
                    String.format(
                            Locale.ROOT,
                            "{\"bench\":\"%s\",\"name\":\"variance_ratio\","
                                    + "\"decoupledOverCoupled\":%.4f,\"d1OverCoupled\":%.4f}",
                            NAME,
                            result.ratioToCoupled("decoupled"),
                            result.ratioToCoupled("d1")));
            return result;
        }
    }

    private static long[] seedsFor(Options options, int prompt, int seedIndex, int rows) {
        long[] seeds = new long[rows];
        for (int r = 0; r < rows; r++) {
            seeds[r] = Seeds.mix(options.seed(), 0x5EEDL, prompt, r, seedIndex);
        }
        return seeds;
    }

    /** {seconds of a full update with old/ref estimates, seconds of the gradient step only}. */
    private static double[] timeUpdates(
            PolicyModel model,
            PolicyModel reference,
            CoupledEstimator coupled,
            ScoringBatch batch,
            Tokenizer tokenizer,
            GrpoConfig grpo,
            Options options,
            NDManager manager) {
        CoupledGrpoLoss loss = CoupledGrpoLoss.fromConfig(grpo);
        int rows = batch.rows();
        float[] adv = new float[rows];
        for (int i = 0; i < rows; i++) {
            adv[i] = (i % 2 == 0 ? 1f : -1f) * (1 + i) / rows; // fixed, non-zero advantages
        }
        double full = 0;
        double stepOnly = 0;
        try (AdamW optimizer = AdamW.fromConfig(grpo)) {
            for (int i = 0; i <= options.repeats(); i++) { // i = 0 warms up
                try (NDManager sm = manager.newSubManager()) {
                    long t0 = System.nanoTime();
                    NDArray old = coupled.estimate(model.inference(), batch, sm); // (G, K)
                    NDArray ref = coupled.estimate(reference.inference(), batch, sm); // (G, K)
                    long t1 = System.nanoTime();
                    NDArray a = sm.create(adv, new Shape(rows)); // (G)
                    NDArray mask = CompletionMask.of(batch.completions(), tokenizer.imEndId(), sm);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray current = coupled.estimate(model, batch, sm); // (G, K)
                        PolicyLoss l = loss.compute(current, old, ref, a, mask);
                        gc.backward(l.loss());
                    }
                    optimizer.step(model.parameters(), grpo.learningRate(), grpo.maxGradNorm());
                    long t2 = System.nanoTime();
                    if (i > 0) {
                        full += (t2 - t0) / 1e9;
                        stepOnly += (t2 - t1) / 1e9;
                    }
                }
            }
        }
        return new double[] {full / options.repeats(), stepOnly / options.repeats()};
    }

    private static Variance variance(
            LogProbEstimator est,
            PolicyModel model,
            List<int[]> prompts,
            List<int[][]> groups,
            Tokenizer tokenizer,
            Options options,
            NDManager manager) {
        int g = options.groupSize();
        int seeds = options.maskSeeds();
        double varianceSum = 0;
        double estimateSum = 0;
        int sequences = 0;
        for (int p = 0; p < prompts.size(); p++) {
            int[][] completions = groups.get(p);
            float[][] mask = CompletionMask.of(completions, tokenizer.imEndId());
            // rows: (seed s, member r) for all s, r — one estimate call per chunk of seeds
            double[][] values = new double[g][seeds];
            int seedsPerCall = Math.max(1, 32 / g);
            for (int s0 = 0; s0 < seeds; s0 += seedsPerCall) {
                int n = Math.min(seedsPerCall, seeds - s0);
                int[][] rows = new int[n * g][];
                long[] rowSeeds = new long[n * g];
                for (int s = 0; s < n; s++) {
                    long[] ss = seedsFor(options, p, s0 + s, g);
                    for (int r = 0; r < g; r++) {
                        rows[s * g + r] = completions[r];
                        rowSeeds[s * g + r] = ss[r];
                    }
                }
                int[][] promptRows = new int[n * g][];
                java.util.Arrays.fill(promptRows, prompts.get(p));
                ScoringBatch batch = ScoringBatch.of(promptRows, rows, rowSeeds, tokenizer.padId());
                try (NDManager sm = manager.newSubManager()) {
                    float[] lp =
                            est.estimate(model.inference(), batch, sm).toFloatArray(); // (n·G, K)
                    int k = batch.completionLength();
                    for (int s = 0; s < n; s++) {
                        for (int r = 0; r < g; r++) {
                            double sum = 0;
                            for (int j = 0; j < k; j++) {
                                sum += mask[r][j] * lp[(s * g + r) * k + j];
                            }
                            values[r][s0 + s] = sum;
                        }
                    }
                }
            }
            for (int r = 0; r < g; r++) {
                double mean = 0;
                for (double v : values[r]) {
                    mean += v;
                }
                mean /= seeds;
                double ss = 0;
                for (double v : values[r]) {
                    ss += (v - mean) * (v - mean);
                }
                varianceSum += ss / (seeds - 1);
                estimateSum += mean;
                sequences++;
            }
        }
        return new Variance(
                est.name(), est.passes(), varianceSum / sequences, estimateSum / sequences);
    }
}

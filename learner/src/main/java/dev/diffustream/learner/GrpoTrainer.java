package dev.diffustream.learner;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.config.PolicyLossKind;
import dev.diffustream.policy.estimator.CompletionMask;
import dev.diffustream.policy.estimator.LogProbEstimator;
import dev.diffustream.policy.estimator.LogProbEstimators;
import dev.diffustream.policy.estimator.ScoringBatch;
import dev.diffustream.policy.loss.CoupledGrpoLoss;
import dev.diffustream.policy.loss.DecoupledPpoLoss;
import dev.diffustream.policy.loss.PolicyLoss;
import dev.diffustream.policy.loss.PolicyLossStats;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.model.TorchMemory;
import dev.diffustream.policy.tokenizer.Tokenizer;
import dev.diffustream.policy.train.AdamW;
import dev.diffustream.policy.train.GradientClipping;
import dev.diffustream.policy.train.LrSchedule;
import dev.diffustream.policy.train.RefModelSync;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The Coupled-GRPO update of spec §A without Kafka: given a batch of scored groups, runs the I
 * optimizer steps of the batch (A.9, A.10) with the policy, the reference model (A.11), AdamW,
 * global-norm clipping and the LR schedule (A.12). The learner feeds it from the log; a replay
 * feeds it the same events and must produce the same weights.
 *
 * <p>One batch = B groups, split into GA = ceil(B / groupsPerMicroBatch) micro-batches; each
 * optimizer step accumulates the gradients of all micro-batches (each micro-batch loss divided by
 * GA, as the HF Trainer does) and then clips and steps. Iteration j of the batch uses, for
 * micro-batch mb, the mask seed index {@code grpo.maskSeedCoupling().seedIndex(j, mb, GA, I)}: the
 * release's coupling (A.10) by default, or a fresh seed per iteration (the paper).
 *
 * <p>The ratio is taken against the <b>behaviour</b> log-probs carried by the events (with the
 * {@code coupled_grpo} loss; identical to the release when the actor's policy is the learner's),
 * or, with {@code decoupled_ppo}, against the learner's proximal policy (its weights before the
 * batch's first step) with capped behaviour importance weights (AReaL).
 */
public final class GrpoTrainer implements AutoCloseable {

    /** One scored completion. */
    public record Member(
            String completionId,
            int[] prompt,
            int[] completion,
            long[] maskSeeds,
            float[][] behaviourLogProbs,
            double advantage,
            long policyVersion) {}

    /** The members of one group that the batch trains on. */
    public record Group(String groupId, List<Member> members) {}

    /** What one optimizer step did. */
    public record StepStats(
            long step,
            int iteration,
            int seedIndex,
            PolicyLossStats loss,
            double gradNorm,
            double learningRate,
            boolean refSynced) {}

    private final PolicyModel policy;
    private final PolicyModel reference;
    private final Tokenizer tokenizer;
    private final GrpoConfig grpo;
    private final int groupsPerMicroBatch;
    private final LogProbEstimator estimator;
    private final CoupledGrpoLoss coupledLoss;
    private final DecoupledPpoLoss decoupledLoss;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final RefModelSync refSync;
    private long steps;

    /**
     * @param policy trainable policy
     * @param reference frozen reference model (soft-synced in place)
     * @param stepsDone optimizer steps already taken (resume)
     */
    public GrpoTrainer(
            PolicyModel policy,
            PolicyModel reference,
            Tokenizer tokenizer,
            GrpoConfig grpo,
            int groupsPerMicroBatch,
            long stepsDone) {
        this.policy = Objects.requireNonNull(policy);
        this.reference = Objects.requireNonNull(reference);
        this.tokenizer = tokenizer;
        this.grpo = grpo;
        if (groupsPerMicroBatch < 1) {
            throw new IllegalArgumentException(
                    "learner.groupsPerMicroBatch must be >= 1, got " + groupsPerMicroBatch);
        }
        this.groupsPerMicroBatch = groupsPerMicroBatch;
        this.estimator = LogProbEstimators.create(grpo, tokenizer.maskId());
        this.coupledLoss = CoupledGrpoLoss.fromConfig(grpo);
        this.decoupledLoss =
                grpo.loss() == PolicyLossKind.DECOUPLED_PPO
                        ? DecoupledPpoLoss.fromConfig(grpo)
                        : null;
        this.optimizer = AdamW.fromConfig(grpo);
        this.schedule =
                LrSchedule.create(
                        grpo.lrSchedule(),
                        grpo.learningRate(),
                        grpo.scheduleSteps(),
                        grpo.warmupRatio(),
                        grpo.minLrRate());
        this.refSync = RefModelSync.fromConfig(grpo);
        this.steps = stepsDone;
    }

    /** Optimizer steps taken so far. */
    public long steps() {
        return steps;
    }

    public PolicyModel policy() {
        return policy;
    }

    public PolicyModel reference() {
        return reference;
    }

    /** Saves the optimizer state (moments and step count). */
    public void saveOptimizer(Path file) throws IOException {
        optimizer.save(file);
    }

    /** Restores the optimizer state written by {@link #saveOptimizer}. */
    public void loadOptimizer(Path file) throws IOException {
        optimizer.load(file, policy.parameters());
    }

    /** Runs the I optimizer steps of one batch. */
    public List<StepStats> trainBatch(List<Group> groups) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one group");
        }
        List<List<Group>> micro = new ArrayList<>();
        for (int i = 0; i < groups.size(); i += groupsPerMicroBatch) {
            micro.add(groups.subList(i, Math.min(groups.size(), i + groupsPerMicroBatch)));
        }
        int ga = micro.size();
        int iterations = grpo.numIterations();
        // AReaL's proximal policy: the weights before the batch's first step, per seed index.
        float[][][] proximal = decoupledLoss == null ? null : new float[ga][iterations][];
        if (proximal != null) {
            for (int mb = 0; mb < ga; mb++) {
                for (int s = 0; s < iterations; s++) {
                    proximal[mb][s] = estimateNoGrad(policy, batchOf(micro.get(mb), s));
                }
            }
        }
        List<StepStats> out = new ArrayList<>(iterations);
        for (int it = 0; it < iterations; it++) {
            List<PolicyLossStats> parts = new ArrayList<>(ga);
            int firstSeed = -1;
            for (int mb = 0; mb < ga; mb++) {
                int seedIndex = grpo.maskSeedCoupling().seedIndex(it, mb, ga, iterations);
                if (mb == 0) {
                    firstSeed = seedIndex;
                }
                parts.add(
                        microStep(
                                micro.get(mb),
                                seedIndex,
                                ga,
                                proximal == null ? null : proximal[mb][seedIndex]));
            }
            double gradNorm =
                    GradientClipping.clipGlobalNorm(policy.parameters(), grpo.maxGradNorm());
            double lr = schedule.lr(steps);
            optimizer.step(policy.parameters(), lr);
            steps++;
            boolean synced = refSync.maybeSync(steps, policy.parameters(), reference.parameters());
            out.add(new StepStats(steps, it, firstSeed, combine(parts), gradNorm, lr, synced));
        }
        return out;
    }

    private PolicyLossStats microStep(
            List<Group> groups, int seedIndex, int ga, float[] proximalFlat) {
        ScoringBatch batch = batchOf(groups, seedIndex);
        int rows = batch.rows();
        int k = batch.completionLength();
        float[] behaviour = new float[rows * k];
        float[] advantages = new float[rows];
        int r = 0;
        for (Group g : groups) {
            for (Member m : g.members()) {
                float[][] lp = m.behaviourLogProbs();
                if (lp == null || lp.length <= seedIndex || lp[seedIndex].length != k) {
                    throw new IllegalArgumentException(
                            "group "
                                    + g.groupId()
                                    + ": a member's behaviour log-probs for mask seed "
                                    + seedIndex
                                    + " are "
                                    + (lp == null || lp.length <= seedIndex
                                            ? "missing (" + (lp == null ? 0 : lp.length) + " seeds)"
                                            : lp[seedIndex].length + " values")
                                    + ", expected "
                                    + k
                                    + " (one per completion token)");
                }
                System.arraycopy(lp[seedIndex], 0, behaviour, r * k, k);
                advantages[r] = (float) m.advantage();
                r++;
            }
        }
        try (NDManager manager = policy.manager().newSubManager()) {
            Shape shape = new Shape(rows, k);
            NDArray old = TorchMemory.upload(manager, behaviour, shape); // (B, K)
            NDArray adv = TorchMemory.upload(manager, advantages, new Shape(rows)); // (B)
            NDArray mask = CompletionMask.of(batch.completions(), tokenizer.imEndId(), manager);
            NDArray ref =
                    grpo.beta() > 0
                            ? TorchMemory.upload(
                                    manager, estimateNoGrad(reference, batch), shape) // (B, K)
                            : null;
            NDArray prox =
                    proximalFlat == null ? null : TorchMemory.upload(manager, proximalFlat, shape);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logps = estimator.estimate(policy, batch, manager); // (B, K)
                PolicyLoss loss =
                        decoupledLoss == null
                                ? coupledLoss.compute(logps, old, ref, adv, mask)
                                : decoupledLoss.compute(logps, prox, old, ref, adv, mask);
                gc.backward(loss.loss().div((float) ga));
                return loss.stats();
            }
        }
    }

    private float[] estimateNoGrad(PolicyModel model, ScoringBatch batch) {
        try (NDManager manager = model.manager().newSubManager()) {
            return estimator.estimate(model.inference(), batch, manager).toFloatArray();
        }
    }

    private ScoringBatch batchOf(List<Group> groups, int seedIndex) {
        int rows = 0;
        for (Group g : groups) {
            rows += g.members().size();
        }
        int[][] prompts = new int[rows][];
        int[][] completions = new int[rows][];
        long[] seeds = new long[rows];
        int r = 0;
        for (Group g : groups) {
            for (Member m : g.members()) {
                if (m.maskSeeds().length <= seedIndex) {
                    throw new IllegalArgumentException(
                            "group "
                                    + g.groupId()
                                    + " carries "
                                    + m.maskSeeds().length
                                    + " mask seeds per member; mask seed "
                                    + seedIndex
                                    + " is needed (grpo.numIterations must not exceed the"
                                    + " actor's seeds)");
                }
                prompts[r] = m.prompt();
                completions[r] = m.completion();
                seeds[r] = m.maskSeeds()[seedIndex];
                r++;
            }
        }
        return ScoringBatch.of(prompts, completions, seeds, tokenizer.padId());
    }

    /** Token-weighted means of the micro-batch statistics. */
    static PolicyLossStats combine(List<PolicyLossStats> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        long tokens = 0;
        double loss = 0, policyLoss = 0, kl = 0, low = 0, high = 0, region = 0, iw = 0, capped = 0;
        for (PolicyLossStats p : parts) {
            double w = p.tokens();
            tokens += p.tokens();
            loss += p.loss() * w;
            policyLoss += p.policyLoss() * w;
            kl += p.kl() * w;
            low += p.clipRatioLow() * w;
            high += p.clipRatioHigh() * w;
            region += p.clipRatioRegion() * w;
            iw += p.importanceWeightMean() * w;
            capped += p.cappedFraction() * w;
        }
        double n = Math.max(1, tokens);
        return new PolicyLossStats(
                loss / n,
                policyLoss / n,
                kl / n,
                low / n,
                high / n,
                region / n,
                iw / n,
                capped / n,
                tokens);
    }

    @Override
    public void close() {
        optimizer.close();
    }
}

package dev.diffustream.learner;

import static dev.diffustream.learner.TinyPolicies.K;
import static dev.diffustream.learner.TinyPolicies.TOKENIZER;
import static dev.diffustream.learner.TinyPolicies.create;
import static dev.diffustream.learner.TinyPolicies.group;
import static dev.diffustream.learner.TinyPolicies.grpo;
import static dev.diffustream.learner.TinyPolicies.sequenceLogProb;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.nn.Parameter;
import dev.diffustream.policy.checkpoint.WeightsDigest;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.loss.PolicyLossStats;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.train.AdamW;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One Coupled-GRPO batch (spec A.9–A.12) on a real tiny policy, without Kafka: the direction of the
 * update, what leaves the weights alone, clipping, the reference model, micro-batch accumulation,
 * determinism and resume.
 */
class GrpoTrainerTest {

    /** One iteration, no KL, no decay, no clipping of the norm, constant LR. */
    private static final String PLAIN =
            "numIterations: 1\nbeta: 0.0\nweightDecay: 0.0\nmaxGradNorm: 0.0\n"
                    + "learningRate: 1.0e-2\nlrSchedule: constant\nwarmupRatio: 0.0\n";

    @TempDir Path tmp;

    @Test
    void shouldRaisePositiveMemberLogProbAboveNegativeOnesWhenTrained() {
        // given a group sampled by the policy itself: one member with a positive advantage
        GrpoConfig cfg = grpo(PLAIN);
        double[] adv = {1.5, -0.5, -0.5, -0.5};
        try (PolicyModel policy = create(11);
                PolicyModel ref = policy.frozenCopy();
                GrpoTrainer trainer = new GrpoTrainer(policy, ref, TOKENIZER, cfg, 1, 0)) {
            GrpoTrainer.Group g = group("g", 1, adv, policy, cfg, 0f);
            double[] before = new double[adv.length];
            for (int m = 0; m < adv.length; m++) {
                before[m] = sequenceLogProb(policy, cfg, g.members().get(m), 0);
            }

            // when one optimizer step is taken
            trainer.trainBatch(List.of(g));

            // then, scored with the same mask seeds, the positive member became more likely and
            // more so than every negative member, which on average became less likely
            double[] delta = new double[adv.length];
            for (int m = 0; m < adv.length; m++) {
                delta[m] = sequenceLogProb(policy, cfg, g.members().get(m), 0) - before[m];
            }
            assertThat(delta[0]).isPositive();
            for (int m = 1; m < adv.length; m++) {
                assertThat(delta[m]).isLessThan(delta[0]);
            }
            assertThat((delta[1] + delta[2] + delta[3]) / 3).isNegative();
        }
    }

    @Test
    void shouldKeepWeightsBitIdenticalWhenAdvantagesAreZeroAndBetaIsZero() throws IOException {
        // given zero advantages, β = 0 and no weight decay
        GrpoConfig cfg = grpo(PLAIN.replace("numIterations: 1", "numIterations: 2"));
        try (PolicyModel policy = create(11);
                PolicyModel ref = policy.frozenCopy();
                GrpoTrainer trainer = new GrpoTrainer(policy, ref, TOKENIZER, cfg, 1, 0)) {
            String digest = WeightsDigest.of(policy);
            GrpoTrainer.Group g = group("g", 2, new double[] {0, 0, 0}, policy, cfg, 0f);

            // when a batch of two steps is trained
            List<GrpoTrainer.StepStats> stats = trainer.trainBatch(List.of(g));

            // then nothing moved: the gradient is exactly zero and so is Adam's update
            assertThat(WeightsDigest.of(policy)).isEqualTo(digest);
            assertThat(stats).hasSize(2);
            for (GrpoTrainer.StepStats s : stats) {
                assertThat(s.gradNorm()).isZero();
                assertThat(s.loss().loss()).isZero();
            }
            assertThat(trainer.steps()).isEqualTo(2);
        }
    }

    @Test
    void shouldOnlyDecayWeightsWhenAdvantagesAreZero() {
        // given zero advantages, β = 0 and weight decay λ = 0.1 at lr = 1e-2
        GrpoConfig cfg =
                grpo(
                        PLAIN.replace("numIterations: 1", "numIterations: 2")
                                .replace("weightDecay: 0.0", "weightDecay: 0.1"));
        try (PolicyModel policy = create(11);
                PolicyModel ref = policy.frozenCopy();
                GrpoTrainer trainer = new GrpoTrainer(policy, ref, TOKENIZER, cfg, 1, 0)) {
            Map<String, float[]> before = weights(policy);
            GrpoTrainer.Group g = group("g", 3, new double[] {0, 0}, policy, cfg, 0f);

            // when two steps are taken
            trainer.trainBatch(List.of(g));

            // then decayed parameters shrank by (1 − lr·λ)² and the others (norms, biases) stayed
            double factor = Math.pow(1 - 1e-2 * 0.1, 2);
            Predicate<String> decayed = AdamW.hfDecayRule();
            Map<String, float[]> after = weights(policy);
            int decayedCount = 0;
            for (Map.Entry<String, float[]> e : before.entrySet()) {
                float[] w0 = e.getValue();
                float[] w1 = after.get(e.getKey());
                boolean decays = decayed.test(e.getKey());
                decayedCount += decays ? 1 : 0;
                for (int i = 0; i < w0.length; i++) {
                    if (decays) {
                        assertThat((double) w1[i]).isCloseTo(w0[i] * factor, within(1e-6));
                    } else {
                        assertThat(w1[i]).as(e.getKey()).isEqualTo(w0[i]);
                    }
                }
            }
            assertThat(decayedCount).isPositive().isLessThan(before.size());
        }
    }

    @Test
    void shouldProduceBitIdenticalWeightsWhenTwoTrainersGetSameInputs() throws IOException {
        // given two trainers on policies built from the same seed, with KL, decay and clipping on
        GrpoConfig cfg =
                grpo(
                        "numIterations: 2\nlearningRate: 5.0e-3\nlrSchedule: constant\n"
                                + "warmupRatio: 0.0\nbeta: 0.01\nmaxGradNorm: 0.5\n");
        try (PolicyModel p1 = create(21);
                PolicyModel r1 = p1.frozenCopy();
                PolicyModel p2 = create(21);
                PolicyModel r2 = p2.frozenCopy();
                GrpoTrainer t1 = new GrpoTrainer(p1, r1, TOKENIZER, cfg, 1, 0);
                GrpoTrainer t2 = new GrpoTrainer(p2, r2, TOKENIZER, cfg, 1, 0)) {
            String initial = WeightsDigest.of(p1);
            assertThat(WeightsDigest.of(p2)).isEqualTo(initial);
            double[] adv = {1.0, -1.0, 0.5, -0.5};

            // when both train the same two batches of two groups (two micro-batches each)
            for (int b = 0; b < 2; b++) {
                List<GrpoTrainer.Group> batch =
                        List.of(
                                group("a" + b, 10 + b, adv, p1, cfg, 0f),
                                group("b" + b, 20 + b, adv, p1, cfg, 0.1f));
                List<GrpoTrainer.StepStats> s1 = t1.trainBatch(batch);
                List<GrpoTrainer.StepStats> s2 = t2.trainBatch(batch);
                // then every statistic agrees exactly
                assertThat(s2).isEqualTo(s1);
            }

            // and so do the weights, which did move
            assertThat(WeightsDigest.of(p2)).isEqualTo(WeightsDigest.of(p1)).isNotEqualTo(initial);
        }
    }

    @Test
    void shouldReportUnitRatioStatisticsAndUseFrozenReferenceWhenOnPolicy() throws IOException {
        // given I = 2, β = 0.01, a hard reference sync every 2 steps, and on-policy members
        GrpoConfig cfg =
                grpo(
                        "numIterations: 2\nlearningRate: 1.0e-2\nlrSchedule: constant\n"
                                + "warmupRatio: 0.0\nbeta: 0.01\nweightDecay: 0.0\n"
                                + "refModelSyncSteps: 2\nrefModelMixupAlpha: 1.0\n");
        double[] adv = {1.0, -0.2, -0.2, -0.2};
        try (PolicyModel policy = create(31);
                PolicyModel ref = policy.frozenCopy();
                GrpoTrainer trainer = new GrpoTrainer(policy, ref, TOKENIZER, cfg, 1, 0)) {
            String refBefore = WeightsDigest.of(ref);
            GrpoTrainer.Group g = group("g", 4, adv, policy, cfg, 0f);

            // when one batch is trained
            List<GrpoTrainer.StepStats> stats = trainer.trainBatch(List.of(g));

            // then two steps ran, iteration 0 with the release's seed index 1 (spec A.10)
            assertThat(stats).extracting(GrpoTrainer.StepStats::step).containsExactly(1L, 2L);
            assertThat(stats).extracting(GrpoTrainer.StepStats::iteration).containsExactly(0, 1);
            assertThat(stats).extracting(GrpoTrainer.StepStats::seedIndex).containsExactly(1, 0);
            assertThat(stats)
                    .extracting(GrpoTrainer.StepStats::learningRate)
                    .containsExactly(1e-2, 1e-2);
            // the first step sees ratio 1 and the reference equal to the policy: no clipping, no
            // KL, and the surrogate is −(token mean of A) = −0.1
            PolicyLossStats first = stats.get(0).loss();
            assertThat(first.tokens()).isEqualTo(4L * K);
            assertThat(first.clipRatioRegion()).isZero();
            assertThat(first.kl()).isCloseTo(0, within(1e-6));
            assertThat(first.policyLoss()).isCloseTo(-0.1, within(1e-4));
            assertThat(first.loss()).isCloseTo(-0.1, within(1e-4));
            assertThat(stats.get(0).gradNorm()).isPositive();
            // the second step sees a moved policy against the still frozen reference
            PolicyLossStats second = stats.get(1).loss();
            assertThat(second.kl()).isPositive();
            assertThat(Double.isFinite(second.loss())).isTrue();
            // and the reference was synced after step 2 only, to the policy (α = 1)
            assertThat(stats)
                    .extracting(GrpoTrainer.StepStats::refSynced)
                    .containsExactly(false, true);
            assertThat(WeightsDigest.of(ref))
                    .isNotEqualTo(refBefore)
                    .isEqualTo(WeightsDigest.of(policy));
        }
    }

    @Test
    void shouldCountClippedTokensAndPassNoGradientThroughThemWhenRatioLeavesTrustRegion()
            throws IOException {
        GrpoConfig cfg = grpo(PLAIN);
        try (PolicyModel policy = create(41);
                PolicyModel ref = policy.frozenCopy();
                GrpoTrainer trainer = new GrpoTrainer(policy, ref, TOKENIZER, cfg, 1, 0)) {
            // given behaviour log-probs 2 nats below the policy's (ratio e² > 1 + ε = 1.5)
            GrpoTrainer.Group high = group("h", 5, new double[] {1, 1, -1, -1}, policy, cfg, -2f);
            // when trained: then the tokens of the A > 0 half are clipped high, none low
            PolicyLossStats s = trainer.trainBatch(List.of(high)).get(0).loss();
            assertThat(s.clipRatioHigh()).isCloseTo(0.5, within(1e-9));
            assertThat(s.clipRatioLow()).isZero();
            assertThat(s.clipRatioRegion()).isCloseTo(0.5, within(1e-9));

            // given behaviour log-probs 2 nats above (ratio e⁻² < 1 − ε = 0.5)
            GrpoTrainer.Group low = group("l", 6, new double[] {1, -1, -1, -1}, policy, cfg, 2f);
            // then the tokens of the A < 0 rows are clipped low
            PolicyLossStats t = trainer.trainBatch(List.of(low)).get(0).loss();
            assertThat(t.clipRatioLow()).isCloseTo(0.75, within(1e-9));
            assertThat(t.clipRatioHigh()).isZero();
        }
    }

    @Test
    void shouldNotMoveWeightsWhenEveryTokenIsClipped() throws IOException {
        GrpoConfig cfg = grpo(PLAIN);
        // given a fresh optimizer (no momentum) and a group whose every token is clipped
        // (A > 0, ratio e² > 1 + ε)
        try (PolicyModel policy = create(42);
                PolicyModel ref = policy.frozenCopy();
                GrpoTrainer trainer = new GrpoTrainer(policy, ref, TOKENIZER, cfg, 1, 0)) {
            String digest = WeightsDigest.of(policy);
            GrpoTrainer.Group all = group("a", 7, new double[] {1, 2}, policy, cfg, -2f);

            // when trained
            GrpoTrainer.StepStats u = trainer.trainBatch(List.of(all)).get(0);

            // then the clipped surrogate is flat: no gradient, no update (β = 0, no decay)
            assertThat(u.loss().clipRatioHigh()).isEqualTo(1.0);
            assertThat(u.loss().policyLoss()).isCloseTo(-1.5 * 1.5, within(1e-6));
            assertThat(u.gradNorm()).isZero();
            assertThat(WeightsDigest.of(policy)).isEqualTo(digest);
        }
    }

    @Test
    void shouldMatchOneBigMicroBatchWhenGradientsAccumulateOverMicroBatches() {
        // given the same batch of two equally long groups, and a fresh seed per iteration so
        // that both splits score the same masks
        GrpoConfig cfg = grpo(PLAIN + "maskSeedCoupling: fresh_per_iteration\n");
        double[] adv = {1.0, -0.4, 0.3, -0.9};
        try (PolicyModel whole = create(51);
                PolicyModel wholeRef = whole.frozenCopy();
                PolicyModel split = create(51);
                PolicyModel splitRef = split.frozenCopy();
                GrpoTrainer one = new GrpoTrainer(whole, wholeRef, TOKENIZER, cfg, 2, 0);
                GrpoTrainer two = new GrpoTrainer(split, splitRef, TOKENIZER, cfg, 1, 0)) {
            List<GrpoTrainer.Group> batch =
                    List.of(
                            group("x", 8, adv, whole, cfg, 0.05f),
                            group("y", 9, adv, whole, cfg, 0f));

            // when one trainer scores both groups in one micro-batch, the other in two (GA = 2)
            GrpoTrainer.StepStats a = one.trainBatch(batch).get(0);
            GrpoTrainer.StepStats b = two.trainBatch(batch).get(0);

            // then the accumulated gradient (each micro-batch loss / GA) is the whole batch's
            assertThat(b.gradNorm())
                    .isPositive()
                    .isCloseTo(a.gradNorm(), within(1e-4 * a.gradNorm()));
            assertThat(b.loss().loss()).isCloseTo(a.loss().loss(), within(1e-5));
            assertThat(b.loss().policyLoss()).isCloseTo(a.loss().policyLoss(), within(1e-5));
            assertThat(b.loss().tokens()).isEqualTo(a.loss().tokens()).isEqualTo(8L * K);
            // and the updated weights agree to float rounding (Adam's first step is ~lr·sign(g))
            Map<String, float[]> wa = weights(whole);
            Map<String, float[]> wb = weights(split);
            double maxDiff = 0;
            for (String name : wa.keySet()) {
                for (int i = 0; i < wa.get(name).length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(wa.get(name)[i] - wb.get(name)[i]));
                }
            }
            assertThat(maxDiff).isLessThan(1e-3);
        }
    }

    @Test
    void shouldContinueScheduleAndStepCountWhenResumed() {
        // given a warmup over the first 20 of 100 schedule steps
        GrpoConfig cfg =
                grpo(
                        "numIterations: 2\nlearningRate: 1.0e-2\nlrSchedule: constant_with_warmup\n"
                                + "warmupRatio: 0.2\nscheduleSteps: 100\n");
        try (PolicyModel p1 = create(61);
                PolicyModel r1 = p1.frozenCopy();
                PolicyModel p2 = create(61);
                PolicyModel r2 = p2.frozenCopy();
                GrpoTrainer fresh = new GrpoTrainer(p1, r1, TOKENIZER, cfg, 1, 0);
                GrpoTrainer resumed = new GrpoTrainer(p2, r2, TOKENIZER, cfg, 1, 50)) {
            GrpoTrainer.Group g = group("g", 10, new double[] {1, -1}, p1, cfg, 0f);

            // when both train one batch
            List<GrpoTrainer.StepStats> f = fresh.trainBatch(List.of(g));
            List<GrpoTrainer.StepStats> r = resumed.trainBatch(List.of(g));

            // then the fresh one is warming up and the resumed one is at the peak, steps 51, 52
            assertThat(f).allSatisfy(s -> assertThat(s.learningRate()).isLessThan(1e-2));
            assertThat(f.get(1).learningRate()).isGreaterThan(f.get(0).learningRate());
            assertThat(r).allSatisfy(s -> assertThat(s.learningRate()).isEqualTo(1e-2));
            assertThat(r).extracting(GrpoTrainer.StepStats::step).containsExactly(51L, 52L);
            assertThat(resumed.steps()).isEqualTo(52);
        }
    }

    @Test
    void shouldContinueIdenticallyWhenOptimizerStateSavedAndLoaded() throws IOException {
        GrpoConfig cfg =
                grpo(
                        "numIterations: 2\nlearningRate: 5.0e-3\nlrSchedule: constant\n"
                                + "warmupRatio: 0.0\nbeta: 0.01\nsyncRefModel: false\n");
        double[] adv = {1.0, -1.0, 0.2};
        try (PolicyModel policy = create(71);
                PolicyModel ref = policy.frozenCopy();
                GrpoTrainer original = new GrpoTrainer(policy, ref, TOKENIZER, cfg, 1, 0)) {
            // given a trainer after one batch, whose weights and optimizer state are saved
            GrpoTrainer.Group b1 = group("b1", 11, adv, policy, cfg, 0f);
            GrpoTrainer.Group b2 = group("b2", 12, adv, policy, cfg, 0f);
            original.trainBatch(List.of(b1));
            Path state = tmp.resolve("optimizer.bin");
            original.saveOptimizer(state);

            try (PolicyModel p2 = policy.copy(true);
                    PolicyModel r2 = ref.frozenCopy();
                    PolicyModel p3 = policy.copy(true);
                    PolicyModel r3 = ref.frozenCopy();
                    GrpoTrainer restored =
                            new GrpoTrainer(p2, r2, TOKENIZER, cfg, 1, original.steps());
                    GrpoTrainer coldStart =
                            new GrpoTrainer(p3, r3, TOKENIZER, cfg, 1, original.steps())) {
                restored.loadOptimizer(state);

                // when the original and the restored trainer train the next batch
                original.trainBatch(List.of(b2));
                restored.trainBatch(List.of(b2));
                coldStart.trainBatch(List.of(b2));

                // then they end bit-identical; without the moments the result differs
                assertThat(WeightsDigest.of(p2)).isEqualTo(WeightsDigest.of(policy));
                assertThat(WeightsDigest.of(p3)).isNotEqualTo(WeightsDigest.of(policy));
            }
        }
    }

    @Test
    void shouldEqualCoupledUpdateWhenDecoupledLossTrainsOnPolicyMembers() throws IOException {
        // given on-policy members (behaviour = proximal = the current weights) and β = 0
        GrpoConfig coupled = grpo(PLAIN);
        GrpoConfig decoupled = grpo(PLAIN + "loss: decoupled_ppo\n");
        double[] adv = {1.0, -0.5, -0.5};
        try (PolicyModel p1 = create(81);
                PolicyModel r1 = p1.frozenCopy();
                PolicyModel p2 = create(81);
                PolicyModel r2 = p2.frozenCopy();
                GrpoTrainer a = new GrpoTrainer(p1, r1, TOKENIZER, coupled, 1, 0);
                GrpoTrainer b = new GrpoTrainer(p2, r2, TOKENIZER, decoupled, 1, 0)) {
            GrpoTrainer.Group g = group("g", 13, adv, p1, coupled, 0f);

            // when each trains the group
            GrpoTrainer.StepStats sa = a.trainBatch(List.of(g)).get(0);
            GrpoTrainer.StepStats sb = b.trainBatch(List.of(g)).get(0);

            // then the importance weights are 1, nothing is capped, and the update is the same
            assertThat(sb.loss().importanceWeightMean()).isCloseTo(1.0, within(1e-5));
            assertThat(sb.loss().cappedFraction()).isZero();
            assertThat(sb.loss().loss()).isCloseTo(sa.loss().loss(), within(1e-6));
            assertThat(sb.gradNorm()).isCloseTo(sa.gradNorm(), within(1e-5 * sa.gradNorm()));
            assertThat(sa.gradNorm()).isPositive();
        }
    }

    @Test
    void shouldFilterTokensWhenBehaviourImportanceWeightExceedsCap() throws IOException {
        // given members whose behaviour estimates are 3 nats below the proximal policy's
        // (w = e³ ≈ 20.1 > cap 5) and the filter mode
        GrpoConfig cfg =
                grpo(
                        PLAIN
                                + "loss: decoupled_ppo\nimportanceWeightCap: 5.0\n"
                                + "importanceCapMode: filter\n");
        try (PolicyModel policy = create(82);
                PolicyModel ref = policy.frozenCopy();
                GrpoTrainer trainer = new GrpoTrainer(policy, ref, TOKENIZER, cfg, 1, 0)) {
            String digest = WeightsDigest.of(policy);
            GrpoTrainer.Group g = group("g", 14, new double[] {1.0, -1.0}, policy, cfg, -3f);

            // when trained
            GrpoTrainer.StepStats s = trainer.trainBatch(List.of(g)).get(0);

            // then every token is filtered out: weight reported before capping, no update
            assertThat(s.loss().cappedFraction()).isEqualTo(1.0);
            assertThat(s.loss().importanceWeightMean()).isCloseTo(Math.exp(3), within(1e-3));
            assertThat(s.loss().policyLoss()).isZero();
            assertThat(s.gradNorm()).isZero();
            assertThat(WeightsDigest.of(policy)).isEqualTo(digest);
        }
    }

    @Test
    void shouldRejectBatchWhenItHasNoGroup() {
        GrpoConfig cfg = grpo(PLAIN);
        try (PolicyModel policy = create(11);
                PolicyModel ref = policy.frozenCopy();
                GrpoTrainer trainer = new GrpoTrainer(policy, ref, TOKENIZER, cfg, 1, 0)) {
            assertThatThrownBy(() -> trainer.trainBatch(List.of()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("at least one group");
            assertThat(trainer.steps()).isZero();
        }
    }

    @Test
    void shouldRejectGroupNamingItWhenBehaviourLogProbsOrSeedsDoNotMatchTheBatch() {
        GrpoConfig cfg = grpo(PLAIN);
        try (PolicyModel policy = create(12);
                PolicyModel ref = policy.frozenCopy();
                GrpoTrainer trainer = new GrpoTrainer(policy, ref, TOKENIZER, cfg, 1, 0)) {
            GrpoTrainer.Group good = group("g1", 5, new double[] {1, -1}, policy, cfg, 0f);
            GrpoTrainer.Member m = good.members().get(0);
            // given a member whose behaviour log-probs are one token short
            float[][] shortLp = {java.util.Arrays.copyOf(m.behaviourLogProbs()[0], K - 1)};
            GrpoTrainer.Group truncated =
                    new GrpoTrainer.Group(
                            "g-short",
                            List.of(
                                    new GrpoTrainer.Member(
                                            m.completionId(),
                                            m.prompt(),
                                            m.completion(),
                                            m.maskSeeds(),
                                            shortLp,
                                            m.advantage(),
                                            m.policyVersion()),
                                    good.members().get(1)));
            assertThatThrownBy(() -> trainer.trainBatch(List.of(truncated)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("g-short")
                    .hasMessageContaining("expected " + K);
            // given a member without mask seeds
            GrpoTrainer.Group seedless =
                    new GrpoTrainer.Group(
                            "g-seedless",
                            List.of(
                                    new GrpoTrainer.Member(
                                            m.completionId(),
                                            m.prompt(),
                                            m.completion(),
                                            new long[0],
                                            m.behaviourLogProbs(),
                                            m.advantage(),
                                            m.policyVersion()),
                                    good.members().get(1)));
            assertThatThrownBy(() -> trainer.trainBatch(List.of(seedless)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("g-seedless")
                    .hasMessageContaining("mask seed 0");
            // then nothing was trained
            assertThat(trainer.steps()).isZero();
        }
    }

    @Test
    void shouldWeighMicroBatchStatisticsByTokensWhenCombined() {
        // given two micro-batches of 10 and 30 loss tokens
        PolicyLossStats a = new PolicyLossStats(1.0, 0.8, 0.2, 0.1, 0.0, 0.1, 1.0, 0.0, 10);
        PolicyLossStats b = new PolicyLossStats(-1.0, -1.2, 0.6, 0.0, 0.4, 0.4, 1.0, 0.2, 30);

        // when combined
        PolicyLossStats c = GrpoTrainer.combine(List.of(a, b));

        // then every mean is token-weighted (hand-computed) and the tokens add up
        assertThat(c.tokens()).isEqualTo(40);
        assertThat(c.loss()).isCloseTo((10 * 1.0 + 30 * -1.0) / 40, within(1e-12));
        assertThat(c.policyLoss()).isCloseTo(-0.7, within(1e-12));
        assertThat(c.kl()).isCloseTo(0.5, within(1e-12));
        assertThat(c.clipRatioLow()).isCloseTo(0.025, within(1e-12));
        assertThat(c.clipRatioHigh()).isCloseTo(0.3, within(1e-12));
        assertThat(c.clipRatioRegion()).isCloseTo(0.325, within(1e-12));
        assertThat(c.cappedFraction()).isCloseTo(0.15, within(1e-12));
        assertThat(GrpoTrainer.combine(List.of(a))).isSameAs(a);
    }

    private static Map<String, float[]> weights(PolicyModel model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
            out.put(e.getKey(), e.getValue().getArray().toFloatArray());
        }
        return out;
    }
}

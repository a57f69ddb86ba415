package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.DeadLetter;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.GroupClose;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.schemas.testing.Samples;
import dev.diffustream.streams.AdvantageConfig.Baseline;
import dev.diffustream.streams.AdvantageConfig.ZeroVariancePolicy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.Test;

/**
 * The advantage topology on a TopologyTestDriver: joins in both orders, duplicates, deadlines by
 * wall-clock time, the partial-group and zero-variance policies, advantages against hand-computed
 * numbers, SANDBOX_ERROR exclusion, poison and late records, metrics; outputs and stores.
 *
 * <p>Rewards use the release weights (2.0 · code + 0.5 · format) and {@link Samples#execution}:
 * code = passed / 2 with format 1, so passed 2 → 2.5, passed 1 → 1.5, passed 0 → 0.5, and a
 * FORMAT_ERROR with 0 passed → 0.0.
 */
class AdvantageTopologyTest {

    private static final double EPS = 1e-12;
    private static final int K = 16;
    private static final int I = 2;

    private static AdvantageConfig.Builder config() {
        return AdvantageConfig.defaults().toBuilder()
                .storeType(AdvantageConfig.StoreType.IN_MEMORY);
    }

    private static List<Completion> group(String groupId, int g) {
        List<Completion> list = new ArrayList<>();
        for (int m = 0; m < g; m++) {
            list.add(Samples.completion(groupId, m, g, K, I));
        }
        return list;
    }

    private static Execution passed(Completion c, int passed) {
        return Samples.execution(
                c,
                passed == 2 ? Outcome.PASSED : passed == 1 ? Outcome.PARTIAL : Outcome.FAILED,
                passed);
    }

    /** Passes per member giving rewards [2.5, 0.5, 1.5, 0.5]. */
    private static final int[] PASSES = {2, 0, 1, 0};

    private static double[] advantages(AdvantageGroup g) {
        return g.getMembers().stream().mapToDouble(AdvantageMember::getAdvantage).toArray();
    }

    private static List<String> keys(Harness h) {
        List<String> out = new ArrayList<>();
        try (KeyValueIterator<String, String> it = h.timers().all()) {
            while (it.hasNext()) {
                KeyValue<String, String> kv = it.next();
                out.add(kv.key);
            }
        }
        return out;
    }

    private static long count(Harness h) {
        long n = 0;
        try (KeyValueIterator<String, AdvantageMember> it = h.members().all()) {
            while (it.hasNext()) {
                it.next();
                n++;
            }
        }
        return n;
    }

    @Test
    void shouldEmitLeaveOneOutAdvantagesWhenExecutionsArriveAfterCompletions() {
        try (Harness h = new Harness(config().build())) {
            // given all four completions of group g1
            List<Completion> cs = group("g1", 4);
            cs.forEach(h::completion);
            assertThat(h.emitted()).isEmpty();
            assertThat(count(h)).isEqualTo(4);
            assertThat(h.groups().get("g1").isClosed()).isFalse();
            assertThat(h.groups().get("g1").resolved()).isZero();

            // when their executions arrive (rewards 2.5, 0.5, 1.5, 0.5)
            for (int m = 0; m < 4; m++) {
                h.execution(passed(cs.get(m), PASSES[m]));
            }

            // then one group, leave-one-out (the default): sum = 5.0, n = 3 others
            //   A0 = 2.5 − (5.0 − 2.5)/3 = 2.5 − 0.8333… =  1.6666…
            //   A1 = 0.5 − (5.0 − 0.5)/3 = 0.5 − 1.5     = −1.0
            //   A2 = 1.5 − (5.0 − 1.5)/3 = 1.5 − 1.1666… =  0.3333…
            //   A3 = 0.5 − 1.5                            = −1.0
            List<AdvantageGroup> out = h.emitted();
            assertThat(out).hasSize(1);
            AdvantageGroup g = out.get(0);
            assertThat(g.getGroupId()).isEqualTo("g1");
            assertThat(g.getCloseReason()).isEqualTo(GroupClose.COMPLETE);
            assertThat(g.getDropReason()).isNull();
            assertThat(g.getBaseline()).isEqualTo("leave_one_out");
            assertThat(g.getScaled()).isFalse();
            assertThat(g.getGroupSize()).isEqualTo(4);
            assertThat(g.getExcludedMembers()).isZero();
            // mean = 5.0/4 = 1.25; squares 1.5625+0.5625+0.0625+0.5625 = 2.75; std = √(2.75/3)
            assertThat(g.getRewardMean()).isCloseTo(1.25, within(EPS));
            assertThat(g.getRewardStd()).isCloseTo(Math.sqrt(2.75 / 3), within(EPS));
            assertThat(g.getZeroVariance()).isFalse();
            assertThat(advantages(g))
                    .containsExactly(new double[] {5.0 / 3, -1.0, 1.0 / 3, -1.0}, within(EPS));
            assertThat(g.getMembers())
                    .extracting(AdvantageMember::getReward)
                    .containsExactly(2.5, 0.5, 1.5, 0.5);
            assertThat(g.getMembers())
                    .extracting(AdvantageMember::getOutcome)
                    .containsExactly(
                            Outcome.PASSED, Outcome.FAILED, Outcome.PARTIAL, Outcome.FAILED);
            // the learner's payload travels with each member, plus the completion's coordinates
            for (int m = 0; m < 4; m++) {
                AdvantageMember member = g.getMembers().get(m);
                Completion c = cs.get(m);
                assertThat(member.getMemberIndex()).isEqualTo(m);
                assertThat(member.getCompletionId()).isEqualTo(c.getCompletionId());
                assertThat(member.getTokenIds()).isEqualTo(c.getTokenIds());
                assertThat(member.getPromptTokenIds()).isEqualTo(c.getPromptTokenIds());
                assertThat(member.getMaskSeeds()).isEqualTo(c.getMaskSeeds());
                assertThat(member.getBehaviourLogProbs()).isEqualTo(c.getBehaviourLogProbs());
                assertThat(member.getPolicyVersion()).isEqualTo(c.getPolicyVersion());
                assertThat(member.getSourcePartition()).isZero();
                assertThat(member.getSourceOffset()).isEqualTo(m);
            }
            // and the stores keep only the closed marker and its forget timer
            assertThat(h.groups().get("g1").isClosed()).isTrue();
            assertThat(count(h)).isZero();
            assertThat(keys(h)).hasSize(1).allMatch(k -> k.startsWith("f"));
        }
    }

    @Test
    void shouldEmitSameGroupWhenExecutionsArriveBeforeCompletions() {
        try (Harness h = new Harness(config().build())) {
            // given the executions first
            List<Completion> cs = group("g2", 4);
            for (int m = 3; m >= 0; m--) {
                h.execution(passed(cs.get(m), PASSES[m]));
            }
            assertThat(h.emitted()).isEmpty();
            assertThat(count(h)).isZero();
            assertThat(h.groups().get("g2").slots()).hasSize(4);

            // when the completions arrive, in a shuffled order
            h.completion(cs.get(2));
            h.completion(cs.get(0));
            h.completion(cs.get(3));
            assertThat(h.emitted()).isEmpty();
            h.completion(cs.get(1));

            // then the same advantages as in the other order, members ordered by index
            List<AdvantageGroup> out = h.emitted();
            assertThat(out).hasSize(1);
            assertThat(out.get(0).getMembers())
                    .extracting(AdvantageMember::getMemberIndex)
                    .containsExactly(0, 1, 2, 3);
            assertThat(advantages(out.get(0)))
                    .containsExactly(new double[] {5.0 / 3, -1.0, 1.0 / 3, -1.0}, within(EPS));
            assertThat(h.groups().get("g2").isClosed()).isTrue();
            assertThat(count(h)).isZero();
        }
    }

    @Test
    void shouldCountDuplicatesOnceWhenCompletionsAndExecutionsAreResent() {
        try (Harness h = new Harness(config().build())) {
            // given a group of 3 whose completion 0 is re-sent and whose execution 1 is retried
            List<Completion> cs = group("g3", 3);
            h.completion(cs.get(0));
            h.completion(cs.get(0));
            h.execution(passed(cs.get(1), 0));
            Execution retried = passed(cs.get(1), 2);
            retried.setAttempt(2);
            h.execution(retried);
            assertThat(h.groups().get("g3").slots()).hasSize(2);
            assertThat(h.groups().get("g3").slot("g3/1").attempt()).isEqualTo(1);

            // when the rest arrives
            h.completion(cs.get(1));
            h.completion(cs.get(2));
            h.execution(passed(cs.get(0), 2));
            h.execution(passed(cs.get(2), 1));

            // then exactly one group of 3, with the first execution of member 1 (reward 0.5):
            // rewards [2.5, 0.5, 1.5], sum 4.5 → LOO: 2.5 − 2.0/2 = 1.5, 0.5 − 4.0/2 = −1.5,
            // 1.5 − 3.0/2 = 0.0
            List<AdvantageGroup> out = h.emitted();
            assertThat(out).hasSize(1);
            assertThat(out.get(0).getMembers()).hasSize(3);
            assertThat(advantages(out.get(0)))
                    .containsExactly(new double[] {1.5, -1.5, 0.0}, within(EPS));
            // mean 1.5, std √((1 + 1 + 0)/2) = 1
            assertThat(out.get(0).getRewardStd()).isCloseTo(1.0, within(EPS));

            // and the duplicates were counted: 1 completion + 1 execution
            h.advance(Duration.ofMillis(h.cfg.metricsIntervalMs()));
            assertThat(metric(h.publishedMetrics(), AdvantageMetrics.RECORDS_DUPLICATE))
                    .isEqualTo(2.0);
        }
    }

    @Test
    void shouldCloseGroupAtDeadlineWhenAnExecutionNeverArrives() {
        AdvantageConfig cfg = config().groupDeadlineMs(30_000).punctuateIntervalMs(1_000).build();
        try (Harness h = new Harness(cfg)) {
            // given a group of 4 whose member 3 is never executed
            List<Completion> cs = group("g4", 4);
            cs.forEach(h::completion);
            for (int m = 0; m < 3; m++) {
                h.execution(passed(cs.get(m), PASSES[m]));
            }
            String deadlineKey =
                    Timers.key(Timers.DEADLINE, Harness.T0.toEpochMilli() + 30_000, "g4");
            assertThat(h.timers().get(deadlineKey)).isEqualTo("g4");

            // when wall-clock time advances to just before the deadline, nothing closes
            h.advance(Duration.ofMillis(29_000));
            assertThat(h.emitted()).isEmpty();
            assertThat(h.groups().get("g4").isClosed()).isFalse();

            // and when it passes the deadline (no new record: stream time stands still)
            h.advance(Duration.ofMillis(1_000));

            // then the group closes at the deadline with the 3 scored members:
            // rewards [2.5, 0.5, 1.5] → LOO [1.5, −1.5, 0.0]
            List<AdvantageGroup> out = h.emitted();
            assertThat(out).hasSize(1);
            AdvantageGroup g = out.get(0);
            assertThat(g.getCloseReason()).isEqualTo(GroupClose.DEADLINE);
            assertThat(g.getDropReason()).isNull();
            assertThat(g.getGroupSize()).isEqualTo(4);
            assertThat(g.getMembers())
                    .extracting(AdvantageMember::getMemberIndex)
                    .containsExactly(0, 1, 2);
            assertThat(advantages(g)).containsExactly(new double[] {1.5, -1.5, 0.0}, within(EPS));
            assertThat(g.getFirstSeenAt()).isEqualTo(Harness.T0);
            assertThat(g.getClosedAt()).isEqualTo(Harness.T0.plusMillis(30_000));
            // the unexecuted member's payload is freed too
            assertThat(count(h)).isZero();
            assertThat(h.timers().get(deadlineKey)).isNull();
            assertThat(h.groups().get("g4").isClosed()).isTrue();
        }
    }

    @Test
    void shouldMarkGroupPartialWhenFewerThanMinMembersAtDeadline() {
        AdvantageConfig cfg = config().minMembers(3).groupDeadlineMs(10_000).build();
        try (Harness h = new Harness(cfg)) {
            // given a group of 4 with only 2 members scored
            List<Completion> cs = group("g5", 4);
            cs.forEach(h::completion);
            h.execution(passed(cs.get(0), 2));
            h.execution(passed(cs.get(1), 0));

            // when the deadline passes
            h.advance(Duration.ofMillis(10_000));

            // then it is emitted for accounting only: dropReason partial, advantages 0, no payload
            List<AdvantageGroup> out = h.emitted();
            assertThat(out).hasSize(1);
            AdvantageGroup g = out.get(0);
            assertThat(g.getDropReason()).isEqualTo(AdvantageTopology.DROP_PARTIAL);
            assertThat(g.getCloseReason()).isEqualTo(GroupClose.DEADLINE);
            assertThat(g.getMembers()).hasSize(2);
            assertThat(advantages(g)).containsOnly(0.0);
            assertThat(g.getMembers()).allMatch(m -> m.getTokenIds().isEmpty());
            assertThat(g.getMembers()).allMatch(m -> m.getBehaviourLogProbs().isEmpty());
            assertThat(g.getMembers())
                    .extracting(AdvantageMember::getReward)
                    .containsExactly(2.5, 0.5);
            // statistics still describe the two rewards: mean 1.5, std √((1 + 1)/1) = √2
            assertThat(g.getRewardMean()).isCloseTo(1.5, within(EPS));
            assertThat(g.getRewardStd()).isCloseTo(Math.sqrt(2), within(EPS));
            assertThat(count(h)).isZero();

            h.advance(Duration.ofMillis(cfg.metricsIntervalMs()));
            List<Metric> metrics = h.publishedMetrics();
            assertThat(metric(metrics, AdvantageMetrics.GROUPS_PARTIAL)).isEqualTo(1.0);
            assertThat(metric(metrics, AdvantageMetrics.GROUPS_DROPPED)).isEqualTo(1.0);
            assertThat(metric(metrics, AdvantageMetrics.GROUPS_DROPPED_PARTIAL)).isEqualTo(1.0);
        }
    }

    @Test
    void shouldKeepPayloadOfDroppedGroupWhenEmitDroppedPayloads() {
        AdvantageConfig cfg = config().emitDroppedPayloads(true).groupDeadlineMs(5_000).build();
        try (Harness h = new Harness(cfg)) {
            // given a single scored member out of 3 (below minMembers = 2)
            List<Completion> cs = group("g5b", 3);
            h.completion(cs.get(0));
            h.execution(passed(cs.get(0), 1));

            // when the deadline passes
            h.advance(Duration.ofMillis(5_000));

            // then the dropped group keeps the member's payload; std of one reward is undefined
            AdvantageGroup g = h.emitted().get(0);
            assertThat(g.getDropReason()).isEqualTo(AdvantageTopology.DROP_PARTIAL);
            assertThat(g.getMembers().get(0).getTokenIds()).isEqualTo(cs.get(0).getTokenIds());
            assertThat(g.getRewardMean()).isEqualTo(1.5);
            assertThat(g.getRewardStd()).isNaN();
        }
    }

    @Test
    void shouldDropZeroVarianceGroupWhenPolicyIsDrop() {
        try (Harness h = new Harness(config().build())) {
            // given a group whose members all pass (rewards 2.5 each: std 0 < 1e-6)
            List<Completion> cs = group("g6", 3);
            cs.forEach(h::completion);

            // when the executions arrive
            cs.forEach(c -> h.execution(passed(c, 2)));

            // then it is emitted with dropReason zero_variance, all advantages 0
            AdvantageGroup g = h.emitted().get(0);
            assertThat(g.getCloseReason()).isEqualTo(GroupClose.COMPLETE);
            assertThat(g.getZeroVariance()).isTrue();
            assertThat(g.getDropReason()).isEqualTo(AdvantageTopology.DROP_ZERO_VARIANCE);
            assertThat(g.getRewardStd()).isZero();
            assertThat(advantages(g)).containsOnly(0.0);
            assertThat(g.getMembers()).allMatch(m -> m.getTokenIds().isEmpty());

            h.advance(Duration.ofMillis(h.cfg.metricsIntervalMs()));
            List<Metric> metrics = h.publishedMetrics();
            assertThat(metric(metrics, AdvantageMetrics.GROUPS_DROPPED_ZERO_VARIANCE))
                    .isEqualTo(1.0);
            assertThat(metric(metrics, AdvantageMetrics.REWARDS_FRAC_ZERO_STD)).isEqualTo(1.0);
        }
    }

    @Test
    void shouldKeepZeroVarianceGroupWithZeroAdvantagesWhenPolicyIsKeep() {
        AdvantageConfig cfg = config().zeroVariance(ZeroVariancePolicy.KEEP).build();
        try (Harness h = new Harness(cfg)) {
            // given a group whose members all fail the format check (rewards 0.0 each)
            List<Completion> cs = group("g7", 3);
            cs.forEach(h::completion);

            // when the executions arrive
            cs.forEach(c -> h.execution(Samples.execution(c, Outcome.FORMAT_ERROR, 0)));

            // then it is trainable (the release's behaviour) with advantage 0 and its payload
            AdvantageGroup g = h.emitted().get(0);
            assertThat(g.getZeroVariance()).isTrue();
            assertThat(g.getDropReason()).isNull();
            assertThat(g.getRewardMean()).isZero();
            assertThat(advantages(g)).containsExactly(0.0, 0.0, 0.0);
            assertThat(g.getMembers().get(0).getTokenIds()).isEqualTo(cs.get(0).getTokenIds());
        }
    }

    @Test
    void shouldComputeMeanBaselineAdvantagesWhenBaselineIsMean() {
        AdvantageConfig cfg = config().baseline(Baseline.MEAN).build();
        try (Harness h = new Harness(cfg)) {
            // given rewards [2.5, 0.5, 1.5, 0.5]: mean = 5.0/4 = 1.25
            List<Completion> cs = group("g8", 4);
            cs.forEach(h::completion);

            // when scored
            for (int m = 0; m < 4; m++) {
                h.execution(passed(cs.get(m), PASSES[m]));
            }

            // then A = r − 1.25 = [1.25, −0.75, 0.25, −0.75]
            AdvantageGroup g = h.emitted().get(0);
            assertThat(g.getBaseline()).isEqualTo("mean");
            assertThat(advantages(g))
                    .containsExactly(new double[] {1.25, -0.75, 0.25, -0.75}, within(EPS));
        }
    }

    @Test
    void shouldDivideByStdPlusEpsilonWhenScaleRewards() {
        // given rewards [2.5, 0.5, 1.5, 0.5]: std = √(2.75/3) = 0.9574271077563381
        double divisor = 0.9574271077563381 + 1e-4;
        for (Baseline baseline : Baseline.values()) {
            AdvantageConfig cfg = config().baseline(baseline).scaleRewards(true).build();
            try (Harness h = new Harness(cfg)) {
                List<Completion> cs = group("g9", 4);
                cs.forEach(h::completion);

                // when scored
                for (int m = 0; m < 4; m++) {
                    h.execution(passed(cs.get(m), PASSES[m]));
                }

                // then mean: [1.25, −0.75, 0.25, −0.75] / 0.9575271… =
                //   [1.3054460702726, −0.78326764216356, 0.26108921405452, −0.78326764216356]
                // LOO: [5/3, −1, 1/3, −1] / 0.9575271… =
                //   [1.7405947603634666, −1.04435685621808, 0.3481189520726933, −1.04435685621808]
                AdvantageGroup g = h.emitted().get(0);
                assertThat(g.getScaled()).isTrue();
                double[] expected =
                        baseline == Baseline.MEAN
                                ? new double[] {
                                    1.3054460702726,
                                    -0.78326764216356,
                                    0.26108921405452,
                                    -0.78326764216356
                                }
                                : new double[] {
                                    1.7405947603634666,
                                    -1.04435685621808,
                                    0.3481189520726933,
                                    -1.04435685621808
                                };
                assertThat(advantages(g)).containsExactly(expected, within(1e-12));
                assertThat(expected[0])
                        .isCloseTo(
                                (baseline == Baseline.MEAN ? 1.25 : 5.0 / 3) / divisor,
                                within(1e-12));
            }
        }
    }

    @Test
    void shouldUseConfiguredRewardWeights() {
        // given weights code 1.0, format 0.0: rewards = pass rate [1.0, 0.0, 0.5, 0.0]
        try (Harness h = new Harness(config().build(), new RewardWeights(1.0, 0.0))) {
            List<Completion> cs = group("g10", 4);
            cs.forEach(h::completion);

            // when scored (the executions' own `reward` field says 2.5/0.5/1.5/0.5)
            for (int m = 0; m < 4; m++) {
                h.execution(passed(cs.get(m), PASSES[m]));
            }

            // then the topology's weights win: sum 1.5 → LOO: 1.0 − 0.5/3 = 0.8333…,
            // 0.0 − 1.5/3 = −0.5, 0.5 − 1.0/3 = 0.1666…, −0.5
            AdvantageGroup g = h.emitted().get(0);
            assertThat(g.getMembers())
                    .extracting(AdvantageMember::getReward)
                    .containsExactly(1.0, 0.0, 0.5, 0.0);
            assertThat(advantages(g))
                    .containsExactly(new double[] {5.0 / 6, -0.5, 1.0 / 6, -0.5}, within(EPS));
        }
    }

    @Test
    void shouldCountUnknownRewardComponentsAsZeroAndDeadLetterInfiniteOnes() {
        try (Harness h = new Harness(config().build())) {
            // given a group of 3 where member 1's code reward is unknown (NaN) and a bogus
            // execution with an infinite reward arrives for member 2 first
            List<Completion> cs = group("g19", 3);
            cs.forEach(h::completion);
            Execution bogus = passed(cs.get(2), 1);
            bogus.setCodeReward(Double.POSITIVE_INFINITY);
            h.execution(bogus);
            Execution unknown = passed(cs.get(1), 0);
            unknown.setCodeReward(Double.NaN);

            // when the valid executions arrive
            h.execution(passed(cs.get(0), 2));
            h.execution(unknown);
            h.execution(passed(cs.get(2), 1));

            // then the infinite one is parked and did not count as member 2's execution,
            // and NaN counts as 0 (spec A.8: nansum): rewards [2.5, 0 + 0.5, 1.5]
            assertThat(h.deadLetters.readValuesToList())
                    .singleElement()
                    .satisfies(d -> assertThat(d.getError()).contains("Infinity"));
            AdvantageGroup g = h.emitted().get(0);
            assertThat(g.getMembers())
                    .extracting(AdvantageMember::getReward)
                    .containsExactly(2.5, 0.5, 1.5);
            assertThat(advantages(g)).containsExactly(new double[] {1.5, -1.5, 0.0}, within(EPS));
        }
    }

    @Test
    void shouldExcludeSandboxErrorMembersAndCountThem() {
        try (Harness h = new Harness(config().build())) {
            // given a group of 4 where member 3's sandbox failed (after its completion arrived)
            List<Completion> cs = group("g11", 4);
            cs.forEach(h::completion);
            h.execution(Samples.execution(cs.get(3), Outcome.SANDBOX_ERROR, 0));
            assertThat(h.members().get("g11/3")).isNull();
            assertThat(h.groups().get("g11").slot("g11/3").excluded()).isTrue();

            // when the other three are scored (rewards 2.5, 0.5, 1.5)
            for (int m = 0; m < 3; m++) {
                h.execution(passed(cs.get(m), PASSES[m]));
            }

            // then the group closes COMPLETE without member 3, which is not a reward of 0:
            // LOO over [2.5, 0.5, 1.5] = [1.5, −1.5, 0.0] (with a 0 it would be 4 members)
            AdvantageGroup g = h.emitted().get(0);
            assertThat(g.getCloseReason()).isEqualTo(GroupClose.COMPLETE);
            assertThat(g.getExcludedMembers()).isEqualTo(1);
            assertThat(g.getMembers())
                    .extracting(AdvantageMember::getCompletionId)
                    .containsExactly("g11/0", "g11/1", "g11/2");
            assertThat(advantages(g)).containsExactly(new double[] {1.5, -1.5, 0.0}, within(EPS));
            assertThat(count(h)).isZero();

            h.advance(Duration.ofMillis(h.cfg.metricsIntervalMs()));
            assertThat(metric(h.publishedMetrics(), AdvantageMetrics.RECORDS_SANDBOX_ERROR))
                    .isEqualTo(1.0);
        }
    }

    @Test
    void shouldNotStorePayloadWhenSandboxErrorArrivesBeforeCompletion() {
        try (Harness h = new Harness(config().build())) {
            // given a SANDBOX_ERROR for member 0 before its completion
            List<Completion> cs = group("g12", 2);
            h.execution(Samples.execution(cs.get(0), Outcome.SANDBOX_ERROR, 0));

            // when the completion arrives
            h.completion(cs.get(0));

            // then its payload is not kept and the group waits for member 1
            assertThat(h.members().get("g12/0")).isNull();
            assertThat(h.groups().get("g12").resolved()).isEqualTo(1);
            assertThat(h.emitted()).isEmpty();
        }
    }

    @Test
    void shouldSendPoisonRecordsToDeadLettersAndKeepGoing() {
        // The driver's MockProducer drops transactional sends made outside record processing (its
        // clear() wipes uncommitted sends), which is where the deserialization handler's dead
        // letters go; under at_least_once they are captured. The same path under
        // exactly_once_v2 on a real broker is checked by AdvantageServiceIT.
        Map<String, Object> alos =
                Map.of(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
        try (Harness h = new Harness(config().build(), RewardWeights.defaults(), alos)) {
            // given an undecodable completion (bad magic byte) and a truncated execution
            byte[] garbage = "not avro at all".getBytes(StandardCharsets.UTF_8);
            h.rawCompletions.pipeInput("g13".getBytes(StandardCharsets.UTF_8), garbage);
            List<Completion> cs = group("g13", 2);
            byte[] good =
                    h.topics
                            .executions()
                            .valueSerde()
                            .serialize(h.topics.executions().name(), passed(cs.get(0), 2));
            byte[] truncated = Arrays.copyOf(good, good.length / 2);
            h.rawExecutions.pipeInput("g13".getBytes(StandardCharsets.UTF_8), truncated);

            // when valid records follow
            cs.forEach(h::completion);
            h.execution(passed(cs.get(0), 2));
            h.execution(passed(cs.get(1), 0));

            // then both poison records are parked with their raw bytes and coordinates
            List<DeadLetter> letters = h.deadLetters.readValuesToList();
            assertThat(letters).hasSize(2);
            DeadLetter first = letters.get(0);
            assertThat(first.getSourceTopic()).isEqualTo(h.topics.completions().name());
            assertThat(first.getSourceOffset()).isZero();
            assertThat(first.getValue().array()).isEqualTo(garbage);
            assertThat(first.getKey().array()).isEqualTo("g13".getBytes(StandardCharsets.UTF_8));
            assertThat(first.getErrorClass()).isNotBlank();
            assertThat(first.getService()).isEqualTo(h.cfg.applicationId());
            assertThat(letters.get(1).getSourceTopic()).isEqualTo(h.topics.executions().name());
            assertThat(letters.get(1).getValue().array()).isEqualTo(truncated);
            // and the topology kept going: the group closed normally (rewards 2.5, 0.5)
            List<AdvantageGroup> out = h.emitted();
            assertThat(out).hasSize(1);
            assertThat(advantages(out.get(0)))
                    .containsExactly(new double[] {2.0, -2.0}, within(EPS));
        }
    }

    @Test
    void shouldDeadLetterRecordWhoseKeyIsNotItsGroupId() {
        try (Harness h = new Harness(config().build())) {
            // given a completion keyed by something else than its group id
            Completion c = Samples.completion("g14", 0, 2, K, I);

            // when it arrives
            h.completions.pipeInput("wrong-key", c);

            // then it goes to dead-letters (it may sit on the wrong partition) and no state is kept
            List<DeadLetter> letters = h.deadLetters.readValuesToList();
            assertThat(letters).hasSize(1);
            assertThat(letters.get(0).getError()).contains("wrong-key").contains("g14");
            Completion decoded =
                    h.topics
                            .completions()
                            .valueSerde()
                            .deserialize(
                                    h.topics.completions().name(),
                                    letters.get(0).getValue().array());
            assertThat(decoded).isEqualTo(c);
            assertThat(h.groups().get("g14")).isNull();
            assertThat(h.groups().get("wrong-key")).isNull();
            h.advance(Duration.ofMillis(h.cfg.metricsIntervalMs()));
            assertThat(metric(h.publishedMetrics(), AdvantageMetrics.RECORDS_INVALID))
                    .isEqualTo(1.0);
        }
    }

    @Test
    void shouldDeadLetterRecordsWithOverlongIds() {
        try (Harness h = new Harness(config().build())) {
            // given a completion whose id is longer than the state format keeps
            Completion c = Samples.completion("g20", 0, 2, K, I);
            c.setCompletionId("x".repeat(GroupProcessor.MAX_ID_CHARS + 1));

            // when it arrives
            h.completion(c);

            // then it is parked, and the task goes on without state for it
            assertThat(h.deadLetters.readValuesToList())
                    .singleElement()
                    .satisfies(d -> assertThat(d.getError()).contains("longer than"));
            assertThat(h.groups().get("g20")).isNull();
        }
    }

    @Test
    void shouldCountAndDropLateRecordsForClosedGroup() {
        AdvantageConfig cfg = config().groupDeadlineMs(5_000).build();
        try (Harness h = new Harness(cfg)) {
            // given a group of 3 closed at its deadline with members 0 and 1
            List<Completion> cs = group("g15", 3);
            cs.forEach(h::completion);
            h.execution(passed(cs.get(0), 2));
            h.execution(passed(cs.get(1), 0));
            h.advance(Duration.ofMillis(5_000));
            assertThat(h.emitted()).hasSize(1);

            // when member 2's execution and a re-sent completion arrive late
            h.execution(passed(cs.get(2), 1));
            h.completion(cs.get(2));

            // then nothing more is emitted, nothing is stored, and both are counted as late
            assertThat(h.emitted()).isEmpty();
            assertThat(count(h)).isZero();
            assertThat(h.groups().get("g15").isClosed()).isTrue();
            h.advance(Duration.ofMillis(cfg.metricsIntervalMs()));
            assertThat(metric(h.publishedMetrics(), AdvantageMetrics.GROUPS_LATE)).isEqualTo(2.0);
        }
    }

    @Test
    void shouldForgetClosedGroupAfterRetention() {
        AdvantageConfig cfg =
                config().closedGroupRetentionMs(60_000).punctuateIntervalMs(1_000).build();
        try (Harness h = new Harness(cfg)) {
            // given a closed group
            List<Completion> cs = group("g16", 2);
            cs.forEach(h::completion);
            h.execution(passed(cs.get(0), 2));
            h.execution(passed(cs.get(1), 0));
            assertThat(h.groups().get("g16").isClosed()).isTrue();
            assertThat(h.groups().get("g16").closedAtMs()).isEqualTo(Harness.T0.toEpochMilli());

            // when less than the retention passes, it is remembered
            h.advance(Duration.ofMillis(59_000));
            assertThat(h.groups().get("g16")).isNotNull();

            // and when the retention passes
            h.advance(Duration.ofMillis(1_000));

            // then the marker and its timer are gone
            assertThat(h.groups().get("g16")).isNull();
            assertThat(keys(h)).isEmpty();
        }
    }

    @Test
    void shouldPublishRewardAndLatencyMetricsPerPolicyVersion() {
        AdvantageConfig cfg = config().metricsIntervalMs(10_000).build();
        try (Harness h = new Harness(cfg)) {
            // given a group (policy version 3) scored 2 s after its first record
            List<Completion> cs = group("g17", 4);
            cs.forEach(h::completion);
            h.advance(Duration.ofMillis(2_000));
            for (int m = 0; m < 4; m++) {
                h.execution(passed(cs.get(m), PASSES[m]));
            }
            // and a zero-variance group
            List<Completion> flat = group("g18", 2);
            flat.forEach(h::completion);
            flat.forEach(c -> h.execution(passed(c, 0)));

            // when the metrics interval elapses
            h.advance(Duration.ofMillis(8_000));

            // then: 6 members, rewards 2.5+0.5+1.5+0.5+0.5+0.5 = 6.0 → mean 1.0;
            // std = mean of group stds (√(2.75/3) and 0) / 2; frac_zero_std = 1/2;
            // latency mean = (2000 + 0)/2 = 1000, max 2000
            List<Metric> metrics = h.publishedMetrics();
            Map<String, Metric> byName =
                    metrics.stream().collect(Collectors.toMap(Metric::getName, m -> m));
            assertThat(byName.get(AdvantageMetrics.REWARDS_MEAN).getValue())
                    .isCloseTo(1.0, within(EPS));
            assertThat(byName.get(AdvantageMetrics.REWARDS_MEAN).getPolicyVersion()).isEqualTo(3L);
            assertThat(byName.get(AdvantageMetrics.REWARDS_STD).getValue())
                    .isCloseTo(Math.sqrt(2.75 / 3) / 2, within(EPS));
            assertThat(byName.get(AdvantageMetrics.REWARDS_FRAC_ZERO_STD).getValue())
                    .isEqualTo(0.5);
            assertThat(byName.get(AdvantageMetrics.GROUPS_EMITTED).getValue()).isEqualTo(2.0);
            assertThat(byName.get(AdvantageMetrics.GROUPS_COMPLETE).getValue()).isEqualTo(2.0);
            assertThat(byName.get(AdvantageMetrics.GROUPS_LATENCY_MS).getValue()).isEqualTo(1000.0);
            assertThat(byName.get(AdvantageMetrics.GROUPS_LATENCY_MS_MAX).getValue())
                    .isEqualTo(2000.0);
            assertThat(metrics)
                    .allMatch(m -> m.getSource().equals(cfg.metricsSource()))
                    .allMatch(m -> m.getTags().get("task").equals("0_0"))
                    .allMatch(m -> m.getRunId().equals("run-1"));
            // and nothing is published for an idle interval
            h.advance(Duration.ofMillis(10_000));
            assertThat(h.publishedMetrics()).isEmpty();
        }
    }

    @Test
    void shouldEmitIdenticalGroupsWhetherPayloadsAreCachedDecodedOrReadFromTheStore() {
        // given the same interleaved input for three cache sizes: all hits, evictions, none
        List<List<AdvantageGroup>> outputs = new ArrayList<>();
        for (int entries : new int[] {1024, 3, 0}) {
            try (Harness h = new Harness(config().decodedCacheEntries(entries).build())) {
                List<Completion> a = group("ga", 4);
                List<Completion> b = group("gb", 4);
                for (int m = 0; m < 4; m++) {
                    h.completion(a.get(m));
                    h.completion(b.get(m));
                }

                // when both groups are scored
                for (int m = 0; m < 4; m++) {
                    h.execution(passed(a.get(m), PASSES[m]));
                    h.execution(passed(b.get(3 - m), PASSES[m]));
                }
                outputs.add(h.emitted());
                assertThat(count(h)).isZero();
            }
        }

        // then the outputs do not depend on where the payloads came from
        assertThat(outputs.get(0)).hasSize(2);
        assertThat(outputs.get(1)).isEqualTo(outputs.get(0));
        assertThat(outputs.get(2)).isEqualTo(outputs.get(0));
    }

    @Test
    void shouldNameEveryNodeStoreAndInternalTopicExplicitly() {
        try (Harness h = new Harness(config().build())) {
            // given the topology's description
            String description =
                    AdvantageTopology.buildTopology(h.cfg, RewardWeights.defaults(), h.topics)
                            .describe()
                            .toString();

            // then no generated names, and every named node and store is there
            assertThat(description).doesNotContain("KSTREAM-").doesNotContain("KTABLE-");
            assertThat(description).doesNotContainPattern("-0000\\d+");
            assertThat(description)
                    .contains(
                            AdvantageTopology.COMPLETIONS_SOURCE,
                            AdvantageTopology.EXECUTIONS_SOURCE,
                            AdvantageTopology.GROUP_PROCESSOR,
                            AdvantageTopology.ADVANTAGES_SINK,
                            AdvantageTopology.METRICS_SINK,
                            AdvantageTopology.DEAD_LETTERS_SINK,
                            AdvantageTopology.GROUPS_STORE,
                            AdvantageTopology.MEMBERS_STORE,
                            AdvantageTopology.TIMERS_STORE);
            // one sub-topology: both inputs meet without a repartition topic
            assertThat(description).contains("Sub-topology: 0").doesNotContain("Sub-topology: 1");
            assertThat(description).doesNotContain("repartition");
        }
    }

    private static double metric(List<Metric> metrics, String name) {
        return metrics.stream()
                .filter(m -> m.getName().equals(name))
                .mapToDouble(Metric::getValue)
                .sum();
    }
}

package dev.diffustream.infra.dashboard;

import static dev.diffustream.infra.dashboard.Events.RUN;
import static dev.diffustream.infra.dashboard.Events.group;
import static dev.diffustream.infra.dashboard.Events.metric;
import static dev.diffustream.infra.dashboard.Events.ref;
import static dev.diffustream.infra.dashboard.Events.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.avro.TrainStep;
import dev.diffustream.schemas.testing.Samples;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class RunModelTest {

    private static final long NOW = 1_800_000_000_000L;

    private final AtomicLong clock = new AtomicLong(NOW);

    private RunModel model() {
        return new RunModel(RUN, "p.", clock::get, RunModel.Limits.defaults());
    }

    private static Map<Long, Long> histogram(DashboardState s) {
        return s.staleness().buckets().stream()
                .collect(
                        Collectors.toMap(
                                DashboardState.Bucket::staleness, DashboardState.Bucket::members));
    }

    @Test
    void shouldShowEmptyFiguresWhenNothingArrivedYet() {
        // given a model that has seen nothing
        RunModel model = model();

        // when it is snapshot
        DashboardState s = model.snapshot();

        // then every figure is absent or zero, and every outcome and stage is listed
        assertThat(s.runId()).isEqualTo(RUN);
        assertThat(s.prefix()).isEqualTo("p.");
        assertThat(s.policy().version()).isNull();
        assertThat(s.learner().step()).isNull();
        assertThat(s.reward().mean()).isNull();
        assertThat(s.eval().latest()).isNull();
        assertThat(s.eval().series()).isEmpty();
        assertThat(s.staleness().buckets()).isEmpty();
        assertThat(s.staleness().mean()).isNull();
        assertThat(s.steps()).isEmpty();
        assertThat(s.outcomes().total()).isZero();
        assertThat(s.outcomes().counts()).hasSize(Outcome.values().length).containsValue(0L);
        assertThat(s.outcomes().counts().values()).containsOnly(0L);
        assertThat(s.throughput())
                .extracting(DashboardState.Throughput::topic)
                .containsExactly("tasks", "completions", "executions", "advantages", "train-steps");
        assertThat(s.lag().updatedAt()).isNull();
        assertThat(s.deadLetters().total()).isZero();
    }

    @Test
    void shouldShowNewestCheckpointWhenVersionsArriveOutOfOrder() {
        // given checkpoints 0, 2, 1 of our run and 7 of another run
        RunModel model = model();
        model.onCheckpoint(Samples.checkpoint(0));
        model.onCheckpoint(Samples.checkpoint(2));
        model.onCheckpoint(Samples.checkpoint(1));
        model.onCheckpoint(Checkpoint.newBuilder(Samples.checkpoint(7)).setRunId("other").build());

        // when
        DashboardState s = model.snapshot();

        // then the policy version is the highest of our run's
        assertThat(s.policy().version()).isEqualTo(2);
        assertThat(s.policy().step()).isEqualTo(8);
        assertThat(s.policy().kind()).isEqualTo("TRAINED");
        assertThat(s.policy().checkpoints()).isEqualTo(3);
        assertThat(s.consumer().otherRuns()).containsEntry("checkpoints", 1L);
    }

    @Test
    void shouldBuildPerStepSeriesAndNewestRewardWhenStepsArrive() {
        // given four steps (two batches of two iterations)
        RunModel model = model();
        for (int i = 1; i <= 4; i++) {
            model.onTrainStep(step(i, (i + 1) / 2, (i + 1) % 2, i / 3, List.of(), List.of()));
        }

        // when
        DashboardState s = model.snapshot();

        // then the series holds each step's own figures, in step order
        assertThat(s.steps())
                .extracting(DashboardState.StepPoint::step)
                .containsExactly(1L, 2L, 3L, 4L);
        assertThat(s.steps())
                .extracting(DashboardState.StepPoint::loss)
                .containsExactly(1.0, 0.5, 1.0 / 3, 0.25);
        assertThat(s.steps())
                .extracting(DashboardState.StepPoint::kl)
                .containsExactly(0.01, 0.02, 0.03, 0.04);
        assertThat(s.steps().get(2).clipHigh()).isEqualTo(0.006);
        assertThat(s.steps().get(3).gradNorm()).isEqualTo(1.5);
        // and the reward and learner cards show the newest step
        assertThat(s.learner().step()).isEqualTo(4);
        assertThat(s.learner().batch()).isEqualTo(2);
        assertThat(s.learner().trainSteps()).isEqualTo(4);
        assertThat(s.reward().mean()).isEqualTo(2.0);
        assertThat(s.reward().std()).isCloseTo(0.3, within(1e-12));
        assertThat(s.reward().step()).isEqualTo(4);
    }

    @Test
    void shouldHistogramStalenessOfTrainedMembersWhenStepsReferenceGroups() {
        // given groups A (v0,v0,v1,v1) at advantages 0:10 and B (v1 x4) at 1:5, read first
        RunModel model = model();
        model.onAdvantageGroup(group("A", null, 0, 0, 1, 1), 0, 10);
        model.onAdvantageGroup(group("B", null, 1, 1, 1, 1), 1, 5);
        // and a dropped group D that is never referenced by a step's groups
        model.onAdvantageGroup(group("D", "zero_variance", 2, 2, 2, 2), 0, 11);

        // when batch 1 (from v1) trains A and B in two iterations
        List<dev.diffustream.schemas.avro.GroupRef> refs =
                List.of(ref("A", 0, 10, 4, 0), ref("B", 1, 5, 4, 0));
        model.onTrainStep(step(1, 1, 0, 1, refs, List.of()));
        model.onTrainStep(step(2, 1, 1, 1, refs, List.of()));
        // and batch 2 (from v2) trains C, whose step record arrives before C itself, keeping
        // 3 of its 4 members (the v0 one exceeded the staleness bound), and skips D
        model.onTrainStep(
                step(3, 2, 0, 2, List.of(ref("C", 1, 6, 3, 1)), List.of(ref("D", 0, 11, 0, 0))));
        DashboardState before = model.snapshot();
        model.onAdvantageGroup(group("C", null, 0, 1, 2, 2), 1, 6);
        model.onTrainStep(step(4, 2, 1, 2, List.of(ref("C", 1, 6, 3, 1)), List.of()));

        DashboardState s = model.snapshot();

        // then C waited for its record
        assertThat(before.staleness().pendingGroups()).isEqualTo(1);
        assertThat(before.staleness().trainedMembers()).isEqualTo(8);
        // and each trained member is counted once, at learner version − member version:
        // A: 1,1,0,0  B: 0,0,0,0  C (least stale 3 of 2,1,0,0): 1,0,0
        assertThat(histogram(s)).containsExactlyInAnyOrderEntriesOf(Map.of(0L, 8L, 1L, 3L));
        assertThat(s.staleness().trainedMembers()).isEqualTo(11);
        assertThat(s.staleness().mean()).isCloseTo(3.0 / 11, within(1e-12));
        assertThat(s.staleness().max()).isEqualTo(1);
        assertThat(s.staleness().droppedStale()).isEqualTo(1);
        assertThat(s.staleness().resolvedGroups()).isEqualTo(3);
        assertThat(s.staleness().pendingGroups()).isZero();
        assertThat(s.staleness().unresolvedGroups()).isZero();
        assertThat(s.staleness().lastStepMean()).isEqualTo(1.0);
        assertThat(s.staleness().source()).contains("policyVersionBefore");
        // and the group counts come from advantages
        assertThat(s.groups().total()).isEqualTo(4);
        assertThat(s.groups().trainable()).isEqualTo(3);
        assertThat(s.groups().dropped()).containsExactly(Map.entry("zero_variance", 1L));
        assertThat(s.groups().closeReasons()).containsEntry("COMPLETE", 4L);
    }

    @Test
    void shouldGiveUpOldestJoinsWhenPendingReferencesExceedTheBound() {
        // given a model that keeps at most 2 pending step references
        RunModel model =
                new RunModel(RUN, "", clock::get, new RunModel.Limits(100, 100, 100, 2, 100));

        // when a step references 3 groups that were never read
        model.onTrainStep(
                step(
                        1,
                        1,
                        0,
                        3,
                        List.of(ref("X", 0, 1, 4, 0), ref("Y", 0, 2, 4, 0), ref("Z", 0, 3, 4, 0)),
                        List.of()));
        // and the last one then arrives
        model.onAdvantageGroup(group("Z", null, 3, 3, 2, 2), 0, 3);

        // then the oldest reference is given up, the newest is joined
        DashboardState s = model.snapshot();
        assertThat(s.staleness().unresolvedGroups()).isEqualTo(1);
        assertThat(s.staleness().pendingGroups()).isEqualTo(1);
        assertThat(histogram(s)).containsExactlyInAnyOrderEntriesOf(Map.of(0L, 2L, 1L, 2L));
    }

    @Test
    void shouldCountEveryOutcomeWhenExecutionsArrive() {
        // given executions with known outcomes, one of another run
        RunModel model = model();
        Completion c = Samples.completion("g", 0, 4, 8, 2);
        Map<Outcome, Integer> sent =
                Map.of(
                        Outcome.PASSED,
                        3,
                        Outcome.FAILED,
                        2,
                        Outcome.TIMEOUT,
                        1,
                        Outcome.SANDBOX_ERROR,
                        1);
        sent.forEach(
                (o, n) -> {
                    for (int i = 0; i < n; i++) {
                        model.onExecution(Samples.execution(c, o, o == Outcome.PASSED ? 2 : 0));
                    }
                });
        model.onExecution(
                Execution.newBuilder(Samples.execution(c, Outcome.PASSED, 2))
                        .setRunId("other")
                        .build());

        // when
        DashboardState.Outcomes o = model.snapshot().outcomes();

        // then
        assertThat(o.total()).isEqualTo(7);
        assertThat(o.counts())
                .containsEntry("PASSED", 3L)
                .containsEntry("FAILED", 2L)
                .containsEntry("TIMEOUT", 1L)
                .containsEntry("SANDBOX_ERROR", 1L)
                .containsEntry("PARTIAL", 0L);
        assertThat(o.counts().keySet()).first().isEqualTo("UNKNOWN");
    }

    @Test
    void shouldFollowPassAt1ByStepWhenEvaluationsArriveOutOfOrder() {
        // given evaluations at steps 20 and 10 (out of order), one of another run, one without
        // a step, and a learner metric
        RunModel model = model();
        model.onMetric(metric(RUN, RunModel.PASS_AT_1, 0.375, 20L, 5L));
        model.onMetric(metric(RUN, RunModel.PASS_AT_1, 0.25, 10L, 2L));
        model.onMetric(metric("other", RunModel.PASS_AT_1, 0.99, 30L, 9L));
        model.onMetric(metric(RUN, RunModel.PASS_AT_1, 0.5, null, null));
        model.onMetric(metric(RUN, "losses/total", 0.125, 3L, 1L));
        model.onMetric(metric("", "groups/emitted", 4, null, null));

        // when
        DashboardState s = model.snapshot();

        // then the curve is by step and the newest value is the highest step's
        assertThat(s.eval().series())
                .containsExactly(
                        new DashboardState.EvalPoint(10, 0.25, 2L),
                        new DashboardState.EvalPoint(20, 0.375, 5L));
        assertThat(s.eval().latest()).isEqualTo(0.375);
        assertThat(s.eval().step()).isEqualTo(20);
        assertThat(s.eval().policyVersion()).isEqualTo(5);
        // and the latest-metrics table holds one row per (source, name), run-less ones included
        assertThat(s.metrics())
                .extracting(DashboardState.MetricValue::name)
                .containsExactly(RunModel.PASS_AT_1, "groups/emitted", "losses/total");
        assertThat(s.consumer().otherRuns()).containsEntry("metrics", 1L);
    }

    @Test
    void shouldRateRecordsOfTheLastMinuteByTheirTimestamps() {
        // given records stamped now, 30 s ago, 59 s ago, 61 s ago and an hour ago
        RunModel model = model();
        for (long age : new long[] {0, 30_000, 59_000, 61_000, 3_600_000}) {
            model.record("tasks", NOW - age);
        }
        model.record("completions", NOW - 1_000);
        model.record("completions", NOW - 1_000);
        model.record("metrics", NOW);

        // when
        Map<String, DashboardState.Throughput> t =
                model.snapshot().throughput().stream()
                        .collect(Collectors.toMap(DashboardState.Throughput::topic, x -> x));

        // then only the last minute's count toward the rate, all toward the total
        assertThat(t.get("tasks").lastMinute()).isEqualTo(3);
        assertThat(t.get("tasks").perSecond()).isEqualTo(3 / 60.0);
        assertThat(t.get("tasks").total()).isEqualTo(5);
        assertThat(t.get("completions").lastMinute()).isEqualTo(2);
        assertThat(t.get("executions").lastMinute()).isZero();
        assertThat(t).doesNotContainKey("metrics");

        // when a minute passes, then the window is empty again
        clock.addAndGet(61_000);
        assertThat(model.snapshot().throughput().get(0).lastMinute()).isZero();
        assertThat(model.snapshot().consumer().records()).containsEntry("tasks", 5L);
    }

    @Test
    void shouldCountDeadLettersPerServiceAndKeepTheNewest() {
        // given two dead letters from streams and one from the learner (newest)
        RunModel model = model();
        model.onDeadLetter(Samples.deadLetter());
        model.onDeadLetter(Samples.deadLetter());
        model.onDeadLetter(
                dev.diffustream.schemas.avro.DeadLetter.newBuilder(Samples.deadLetter())
                        .setService("learner")
                        .setSourceTopic("advantages")
                        .setError("bad group")
                        .setTimestamp(Instant.ofEpochMilli(NOW))
                        .build());

        // when
        DashboardState.DeadLetters d = model.snapshot().deadLetters();

        // then
        assertThat(d.total()).isEqualTo(3);
        assertThat(d.bySource())
                .containsEntry("streams ← completions", 2L)
                .containsEntry("learner ← advantages", 1L);
        assertThat(d.latest().error()).isEqualTo("bad group");
    }

    @Test
    void shouldKeepLagRowsAndMarkThemWhenTheProbeFails() {
        // given a lag round
        RunModel model = model();
        DashboardState.LagRow row =
                new DashboardState.LagRow(
                        "learner",
                        "learner-run-1",
                        "advantages",
                        "Stable",
                        1,
                        2,
                        2,
                        5,
                        7,
                        2,
                        "committed");
        model.onLag(List.of(row), NOW);

        // when the next probe fails
        model.onLagError("TimeoutException: no answer");

        // then the figures stay, marked with the error
        DashboardState.Lag lag = model.snapshot().lag();
        assertThat(lag.rows()).containsExactly(row);
        assertThat(lag.updatedAt()).isEqualTo(NOW);
        assertThat(lag.error()).contains("TimeoutException");
    }

    @Test
    void shouldSerialiseNonFiniteFiguresAsValidJsonWhenALossDiverges() throws Exception {
        // given a step whose loss is NaN and gradient norm infinite
        RunModel model = model();
        TrainStep bad =
                TrainStep.newBuilder(step(1, 1, 0, 0, List.of(), List.of()))
                        .setLoss(Double.NaN)
                        .setGradNorm(Double.POSITIVE_INFINITY)
                        .build();
        model.onTrainStep(bad);

        // when the snapshot is written as the API does
        byte[] body = new ObjectMapper().writeValueAsBytes(model.snapshot());

        // then it is valid JSON carrying the values as strings the page understands
        JsonNode tree = new ObjectMapper().readTree(body);
        assertThat(tree.at("/steps/0/loss").asText()).isEqualTo("NaN");
        assertThat(tree.at("/steps/0/gradNorm").asText()).isEqualTo("Infinity");
        assertThat(tree.at("/learner/step").asLong()).isEqualTo(1);
    }
}

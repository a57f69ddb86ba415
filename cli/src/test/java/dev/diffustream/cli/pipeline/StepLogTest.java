package dev.diffustream.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.TrainStep;
import dev.diffustream.schemas.testing.Samples;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The step-log checks of the crash tests, on hand-made logs: each passes on a sound log and catches
 * the violation it exists for (so the integration test's assertions can fail).
 */
class StepLogTest {

    private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

    /** Two batches of I = 2 steps: batch 1 trains g0, g1 (skips g2), batch 2 trains g3, g4. */
    private static List<TrainStep> soundLog() {
        return List.of(
                step(1, 1, 0, 0, List.of("g0", "g1"), List.of("g2"), 1),
                step(2, 1, 1, 0, List.of("g0", "g1"), List.of(), 2),
                step(3, 2, 0, 1, List.of("g3", "g4"), List.of(), 3),
                step(4, 2, 1, 1, List.of("g3", "g4"), List.of(), 4));
    }

    private static final Set<String> GROUPS = Set.of("g0", "g1", "g2", "g3", "g4");

    /** advantages: g<i> at partition 0, offset i; g2 dropped for zero variance. */
    private static BiFunction<Integer, Long, AdvantageGroup> advantages(String g2Reason) {
        Map<Long, AdvantageGroup> byOffset = new HashMap<>();
        for (int i = 0; i < 5; i++) {
            AdvantageGroup a = Samples.advantageGroup("g" + i, 4);
            if (i == 2) {
                a.setDropReason(g2Reason);
            }
            byOffset.put((long) i, a);
        }
        return (p, o) -> p == 0 ? byOffset.get(o) : null;
    }

    @Test
    void shouldFindNoProblemWhenTheLogIsSound() {
        // given a log where every group is trained once or skipped for a documented reason
        StepLog log = new StepLog(soundLog());
        // then
        assertThat(log.groupsTrainedTwice()).isEmpty();
        assertThat(log.groupsSkippedTwiceOrAlsoTrained()).isEmpty();
        assertThat(log.coverageProblems(GROUPS)).isEmpty();
        assertThat(log.skipReasonProblems(advantages("zero_variance"))).isEmpty();
        assertThat(log.trainedRefProblems(advantages("zero_variance"))).isEmpty();
        assertThat(log.numberingProblems()).isEmpty();
        assertThat(log.batchProblems(2)).isEmpty();
        assertThat(log.trained()).containsExactly("g0", "g1", "g3", "g4");
        assertThat(log.skipped()).containsExactly("g2");
    }

    @Test
    void shouldReportAGroupTrainedInTwoBatches() {
        // given g1 trained again in batch 2
        List<TrainStep> steps = new ArrayList<>(soundLog());
        steps.set(2, step(3, 2, 0, 1, List.of("g3", "g1"), List.of(), 3));
        steps.set(3, step(4, 2, 1, 1, List.of("g3", "g1"), List.of(), 4));
        // then
        assertThat(new StepLog(steps).groupsTrainedTwice())
                .containsExactly("g1 trained in batches [1, 2]");
    }

    @Test
    void shouldReportAGroupNeitherTrainedNorSkipped() {
        // given the run also had g5, which no step mentions
        Set<String> expected = Set.of("g0", "g1", "g2", "g3", "g4", "g5");
        // then
        assertThat(new StepLog(soundLog()).coverageProblems(expected))
                .containsExactly("g5 neither trained nor skipped");
    }

    @Test
    void shouldReportASkipWithoutADocumentedReason() {
        // given g2 was skipped although the topology emitted it as trainable
        StepLog log = new StepLog(soundLog());
        // then
        assertThat(log.skipReasonProblems(advantages(null)))
                .singleElement()
                .asString()
                .contains("g2 skipped in step 1 without a documented reason");
    }

    @Test
    void shouldReportASkippedGroupThatWasAlsoTrained() {
        // given g2 is skipped in batch 1 and trained in batch 2
        List<TrainStep> steps = new ArrayList<>(soundLog());
        steps.set(2, step(3, 2, 0, 1, List.of("g3", "g2"), List.of(), 3));
        steps.set(3, step(4, 2, 1, 1, List.of("g3", "g2"), List.of(), 4));
        // then
        assertThat(new StepLog(steps).groupsSkippedTwiceOrAlsoTrained())
                .containsExactly("g2 recorded as skipped and as trained");
    }

    @Test
    void shouldReportATrainedReferenceToTheWrongRecord() {
        // given step 1 claims g0 came from the record of g4
        List<TrainStep> steps = new ArrayList<>(soundLog());
        TrainStep s = steps.get(0);
        s.setGroups(List.of(ref("g0", 4), ref("g1", 1)));
        // then
        assertThat(new StepLog(steps).trainedRefProblems(advantages("zero_variance")))
                .singleElement()
                .asString()
                .contains("g0 trained in step 1 but advantages-0@4 is g4");
    }

    @Test
    void shouldReportGapsAndRepeatsInTheNumbering() {
        // given step 2 repeated and step 3 missing
        List<TrainStep> steps = new ArrayList<>(soundLog());
        steps.set(2, step(2, 2, 0, 1, List.of("g3", "g4"), List.of(), 3));
        // then
        assertThat(new StepLog(steps).numberingProblems())
                .containsExactly("record 2 of the step log is step 2, expected 3");
    }

    @Test
    void shouldReportABatchWithAMissingIteration() {
        // given batch 2 lost its second step
        List<TrainStep> steps = new ArrayList<>(soundLog().subList(0, 3));
        // then
        assertThat(new StepLog(steps).batchProblems(2))
                .containsExactly("batch 2 has 1 steps, expected 2");
    }

    @Test
    void shouldAcceptAResumeFromTheNewestCheckpoint() {
        // given checkpoint v1 at step 2, the learner restarted at T0+2.5 s, step 3 from v1
        Checkpoint v1 = checkpoint(1, 2);
        // then
        assertThat(new StepLog(soundLog()).resumeProblems(v1, T0.plusMillis(2500))).isEmpty();
    }

    @Test
    void shouldReportAResumeFromAnOlderVersion() {
        // given step 3 claims to start from v0 while v1 was the newest checkpoint
        List<TrainStep> steps = new ArrayList<>(soundLog());
        steps.get(2).setPolicyVersionBefore(0L);
        // then
        assertThat(new StepLog(steps).resumeProblems(checkpoint(1, 2), T0.plusMillis(2500)))
                .containsExactly(
                        "step 3 starts from policy v0, but the newest checkpoint before the kill"
                                + " is v1");
    }

    @Test
    void shouldReportAStepAfterTheCheckpointThatTheKilledLearnerCommitted() {
        // given step 3 finished before the restart (so the killed learner committed it)
        StepLog log = new StepLog(soundLog());
        // then
        assertThat(log.resumeProblems(checkpoint(1, 2), T0.plusMillis(3500)))
                .singleElement()
                .asString()
                .contains("it is not the restarted learner's");
    }

    @Test
    void shouldFindStepsThatWereWrittenButNeverCommitted() {
        // given the uncommitted log also holds an aborted step 3 (written earlier)
        List<TrainStep> written = new ArrayList<>(soundLog());
        TrainStep aborted = step(3, 2, 0, 1, List.of("g3", "g4"), List.of(), 2);
        written.add(2, aborted);
        // then
        assertThat(new StepLog(soundLog()).abortedAmong(written)).containsExactly(aborted);
    }

    private static TrainStep step(
            long step,
            long batch,
            int iteration,
            long versionBefore,
            List<String> groups,
            List<String> skipped,
            long finishedSecond) {
        TrainStep s = Samples.trainStep(step);
        s.setBatch(batch);
        s.setIteration(iteration);
        s.setPolicyVersionBefore(versionBefore);
        s.setGroups(groups.stream().map(g -> ref(g, Long.parseLong(g.substring(1)))).toList());
        s.setSkippedGroups(
                skipped.stream()
                        .map(g -> ref(g, Long.parseLong(g.substring(1))))
                        .peek(r -> r.setMembers(0))
                        .toList());
        s.setFinishedAt(T0.plusSeconds(finishedSecond));
        return s;
    }

    private static GroupRef ref(String groupId, long offset) {
        return GroupRef.newBuilder()
                .setGroupId(groupId)
                .setPartition(0)
                .setOffset(offset)
                .setMembers(4)
                .setDroppedStale(0)
                .build();
    }

    private static Checkpoint checkpoint(long version, long step) {
        Checkpoint c = Samples.checkpoint(version);
        c.setStep(step);
        return c;
    }
}

package dev.diffustream.learner.replay;

import static dev.diffustream.learner.replay.ReplayFixtures.RUN;
import static dev.diffustream.learner.replay.ReplayFixtures.checkpoint;
import static dev.diffustream.learner.replay.ReplayFixtures.ref;
import static dev.diffustream.learner.replay.ReplayFixtures.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.TrainStep;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunLogTest {

    private final List<GroupRef> b1 = List.of(ref("a", 0, 0, 4, 0), ref("b", 1, 0, 4, 0));
    private final List<GroupRef> b2 = List.of(ref("c", 1, 1, 3, 1), ref("d", 0, 1, 4, 0));

    private List<TrainStep> steps() {
        return new ArrayList<>(
                List.of(
                        step(3, 2, 0, 1, b2),
                        step(1, 1, 0, 0, b1),
                        step(4, 2, 1, 1, b2),
                        step(2, 1, 1, 0, b1)));
    }

    private List<Checkpoint> checkpoints() {
        return new ArrayList<>(
                List.of(
                        checkpoint(2, 4, "s2", "file:///c/v2"),
                        checkpoint(0, 0, "s0", "file:///c/v0"),
                        checkpoint(1, 2, "s1", "file:///c/v1")));
    }

    @Test
    void shouldOrderStepsIntoBatchesWhenTheLogIsComplete() {
        // given: events in arrival order, plus another run's step in the same topic
        List<TrainStep> steps = steps();
        TrainStep other = TrainStep.newBuilder(step(1, 1, 0, 0, b1)).setRunId("other").build();
        steps.add(other);

        // when
        RunLog log = RunLog.of(RUN, steps, checkpoints());

        // then: two batches in order, with the recorded groups and starting versions
        assertThat(log.steps()).extracting(TrainStep::getStep).containsExactly(1L, 2L, 3L, 4L);
        assertThat(log.batches()).extracting(RecordedBatch::batch).containsExactly(1L, 2L);
        assertThat(log.batches().get(1).groups()).isEqualTo(b2);
        assertThat(log.batches().get(1).versionBefore()).isEqualTo(1);
        assertThat(log.batches().get(1).firstStep()).isEqualTo(3);
        assertThat(log.batches().get(1).lastStep()).isEqualTo(4);
        assertThat(log.batches().get(0).recordedMillis()).isEqualTo(200);
        assertThat(log.initial()).hasValueSatisfying(c -> assertThat(c.getVersion()).isZero());
        assertThat(log.checkpointsByStep()).containsOnlyKeys(2L, 4L);
        assertThat(log.trainedGroups()).hasSize(4);
    }

    @Test
    void shouldRefuseALogWithAMissingStep() {
        List<TrainStep> steps = steps();
        steps.removeIf(s -> s.getStep() == 3);
        assertThatThrownBy(() -> RunLog.of(RUN, steps, checkpoints()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("step 3 is missing");
    }

    @Test
    void shouldRefuseALogWithADuplicateStep() {
        List<TrainStep> steps = steps();
        steps.add(step(2, 1, 1, 0, b1));
        assertThatThrownBy(() -> RunLog.of(RUN, steps, checkpoints()))
                .hasMessageContaining("step 2 appears twice");
    }

    @Test
    void shouldRefuseABatchWhoseIterationsNameOtherGroups() {
        List<TrainStep> steps = steps();
        steps.removeIf(s -> s.getStep() == 4);
        steps.add(step(4, 2, 1, 1, b1));
        assertThatThrownBy(() -> RunLog.of(RUN, steps, checkpoints()))
                .hasMessageContaining("step 4 of batch 2")
                .hasMessageContaining("groups differ");
    }

    @Test
    void shouldRefuseABatchWhoseIterationsStartFromAnotherVersion() {
        List<TrainStep> steps = steps();
        steps.removeIf(s -> s.getStep() == 4);
        steps.add(step(4, 2, 1, 0, b2));
        assertThatThrownBy(() -> RunLog.of(RUN, steps, checkpoints()))
                .hasMessageContaining("policyVersionBefore 0");
    }

    @Test
    void shouldRefuseACheckpointLogWithAGap() {
        List<Checkpoint> cps = checkpoints();
        cps.removeIf(c -> c.getVersion() == 1);
        assertThatThrownBy(() -> RunLog.of(RUN, steps(), cps))
                .hasMessageContaining("version 1 is missing");
    }
}

package dev.diffustream.learner.replay;

import static dev.diffustream.learner.replay.ReplayFixtures.RUN;
import static dev.diffustream.learner.replay.ReplayFixtures.checkpoint;
import static dev.diffustream.learner.replay.ReplayFixtures.group;
import static dev.diffustream.learner.replay.ReplayFixtures.ref;
import static dev.diffustream.learner.replay.ReplayFixtures.step;
import static dev.diffustream.learner.replay.ReplayFixtures.withAdvantage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.infra.config.ConfigLoader;
import dev.diffustream.learner.GrpoTrainer;
import dev.diffustream.learner.Learner;
import dev.diffustream.learner.LearnerConfig;
import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.checkpoint.WeightsDigest;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.TrainStep;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replay core on a real (tiny) model, without Kafka: a run is recorded here by training with
 * {@link GrpoTrainer} exactly as the learner does and writing the events it would publish; the
 * replay must reproduce every checkpoint, and report the first divergence when an input changes.
 */
class ReplayerTest {

    private static final DeviceConfig DEVICE = DeviceConfig.defaults();
    private static final GrpoConfig GRPO =
            ConfigLoader.of(GrpoConfig.class)
                    .load(
                            "numIterations: 2\nlearningRate: 5.0e-3\nlrSchedule: constant\n"
                                    + "warmupRatio: 0.0\nbeta: 0.01\nmaxGradNorm: 1.0\n",
                            "test",
                            Map.of())
                    .value();

    /**
     * B = 2, one group per micro-batch (two micro-batches), staleness bound 1, checkpoint per
     * batch.
     */
    private static final LearnerConfig LEARNER =
            new LearnerConfig(2, 1, 1, 1, "", 3, 0, 0, 60_000, false, 0);

    @TempDir Path tmp;

    /** What the recorded run published. */
    private final List<TrainStep> steps = new ArrayList<>();

    private final List<Checkpoint> checkpoints = new ArrayList<>();
    private final Map<Long, AdvantageGroup> log = new HashMap<>();
    private Path store;

    @BeforeEach
    void recordRun() throws IOException {
        DeviceRuntime.initialize(DEVICE);
        store = tmp.resolve("checkpoints");
        ModelConfig cfg =
                ModelConfig.defaults().toBuilder()
                        .hiddenSize(16)
                        .intermediateSize(32)
                        .numHiddenLayers(1)
                        .numAttentionHeads(2)
                        .numKeyValueHeads(1)
                        .initializerRange(0.2)
                        .initSeed(11)
                        .device(DEVICE)
                        .build();
        CharTokenizer tok = CharTokenizer.standard();
        PolicyModel policy = PolicyModel.create(cfg);
        Path v0 = store.resolve(Learner.checkpointName(0));
        HfCheckpoint.save(policy, tok, v0);
        checkpoints.add(checkpoint(0, 0, WeightsDigest.of(policy), v0.toUri().toString()));
        // batch 1 at v0: fresh members; batch 2 at v1: one group from v0 (staleness 1, kept);
        // batch 3 at v2: one member from v0 (staleness 2 > 1: dropped), the rest from v2
        long[][][] versions = {
            {{0, 0, 0, 0}, {0, 0, 0, 0}},
            {{0, 0, 0, 0}, {1, 1, 1, 1}},
            {{2, 2, 0, 2}, {2, 2, 2, 2}},
        };
        double[] adv = {1.5, -0.5, -0.5, -0.5};
        long offset = 0;
        long step = 0;
        try (PolicyModel reference = policy.frozenCopy();
                GrpoTrainer trainer =
                        new GrpoTrainer(
                                policy, reference, tok, GRPO, LEARNER.groupsPerMicroBatch(), 0)) {
            for (int b = 0; b < versions.length; b++) {
                long version = b;
                List<GrpoTrainer.Group> groups = new ArrayList<>();
                List<GroupRef> refs = new ArrayList<>();
                for (int gi = 0; gi < versions[b].length; gi++) {
                    String id = "g" + b + "-" + gi;
                    AdvantageGroup g = group(id, 100 * b + gi, versions[b][gi], adv);
                    long at = offset++;
                    log.put(at, g);
                    // the learner's rule, written out independently of MemberSelection
                    List<GrpoTrainer.Member> kept = new ArrayList<>();
                    int stale = 0;
                    for (AdvantageMember m : g.getMembers()) {
                        if (version - m.getPolicyVersion() > LEARNER.maxStaleness()) {
                            stale++;
                        } else {
                            kept.add(Learner.member(m));
                        }
                    }
                    groups.add(new GrpoTrainer.Group(id, kept));
                    refs.add(ref(id, 0, at, kept.size(), stale));
                }
                for (GrpoTrainer.StepStats s : trainer.trainBatch(groups)) {
                    steps.add(
                            TrainStep.newBuilder(step(++step, b + 1, s.iteration(), version, refs))
                                    .setMaskSeedIndex(s.seedIndex())
                                    .setLoss(s.loss().loss())
                                    .setPolicyLoss(s.loss().policyLoss())
                                    .setKl(s.loss().kl())
                                    .setClipFractionLow(s.loss().clipRatioLow())
                                    .setClipFractionHigh(s.loss().clipRatioHigh())
                                    .setGradNorm(s.gradNorm())
                                    .setLearningRate(s.learningRate())
                                    .setTokens(s.loss().tokens())
                                    .build());
                }
                Path dir = store.resolve(Learner.checkpointName(version + 1));
                HfCheckpoint.save(policy, tok, dir);
                checkpoints.add(
                        checkpoint(
                                version + 1,
                                trainer.steps(),
                                WeightsDigest.of(policy),
                                dir.toUri().toString()));
            }
        } finally {
            policy.close();
        }
    }

    private ReplayReport replay(
            LearnerConfig learner, double tolerance, UnaryOperator<AdvantageGroup> tamper)
            throws IOException {
        Replayer replayer =
                new Replayer(
                        learner,
                        GRPO,
                        DEVICE,
                        CheckpointLocator.of(null, List.of(store)),
                        new Replayer.Options(0, tolerance, java.time.Duration.ofSeconds(5)),
                        null);
        RunLog runLog = RunLog.of(RUN, steps, checkpoints);
        return replayer.replay(runLog, ref -> tamper.apply(log.get(ref.getOffset())));
    }

    @Test
    void shouldReproduceEveryCheckpointWhenTheInputsAreTheRecordedOnes() throws IOException {
        // when
        ReplayReport r = replay(LEARNER, 0, g -> g);

        // then: sha256-identical checkpoints, bit-identical step statistics
        assertThat(r.outcome()).isEqualTo(ReplayReport.Outcome.IDENTICAL);
        assertThat(r.checkpoints())
                .extracting(CheckpointCheck::version, CheckpointCheck::verdict)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(1L, CheckpointCheck.Verdict.IDENTICAL),
                        org.assertj.core.groups.Tuple.tuple(2L, CheckpointCheck.Verdict.IDENTICAL),
                        org.assertj.core.groups.Tuple.tuple(3L, CheckpointCheck.Verdict.IDENTICAL));
        assertThat(r.checkpoints().get(2).replayedSha256())
                .isEqualTo(checkpoints.get(3).getSha256());
        assertThat(r.firstStepMismatch()).isNull();
        assertThat(r.divergence()).isNull();
        // and: the counts, including the one member dropped as stale in batch 3
        assertThat(r.batchesReplayed()).isEqualTo(3);
        assertThat(r.stepsReplayed()).isEqualTo(6);
        assertThat(r.groups()).isEqualTo(6);
        assertThat(r.members()).isEqualTo(23);
        assertThat(r.droppedStale()).isEqualTo(1);
        assertThat(r.recordedSeconds()).isEqualTo(0.6);
    }

    @Test
    void shouldReportTheFirstAffectedCheckpointAndTheLargestTensorWhenAnAdvantageChanges()
            throws IOException {
        // when: the first member of batch 2's second group gets another advantage
        ReplayReport r =
                replay(
                        LEARNER,
                        0,
                        g -> g.getGroupId().equals("g1-1") ? withAdvantage(g, 0, -1.5) : g);

        // then: v1 is identical, v2 diverges, measured against its files
        assertThat(r.outcome()).isEqualTo(ReplayReport.Outcome.DIVERGED);
        Divergence d = r.divergence();
        assertThat(d.kind()).isEqualTo(Divergence.Kind.WEIGHTS);
        assertThat(d.version()).isEqualTo(2);
        assertThat(d.step()).isEqualTo(4);
        assertThat(d.batch()).isEqualTo(2);
        assertThat(r.checkpoints()).hasSize(2);
        assertThat(r.checkpoints().get(0).verdict()).isEqualTo(CheckpointCheck.Verdict.IDENTICAL);
        CheckpointCheck c = r.checkpoints().get(1);
        assertThat(c.filesAvailable()).isTrue();
        assertThat(c.largest()).isNotNull();
        assertThat(c.largest().maxAbsDiff()).isPositive();
        assertThat(c.tensorsDiffering()).isPositive().isLessThanOrEqualTo(c.tensorsCompared());
        assertThat(d.message()).contains(c.largest().name(), "max abs diff");
        // and: the step statistics already differ at the batch's first step
        assertThat(r.firstStepMismatch().step()).isEqualTo(3);
        // and: the replay stopped there
        assertThat(r.batchesReplayed()).isEqualTo(2);
    }

    @Test
    void shouldCompareHashesOnlyWhenTheRecordedFilesArePruned() throws IOException {
        // given: the learner pruned v2
        deleteTree(store.resolve(Learner.checkpointName(2)));

        // when
        ReplayReport r =
                replay(
                        LEARNER,
                        0,
                        g -> g.getGroupId().equals("g1-0") ? withAdvantage(g, 3, 2.0) : g);

        // then
        CheckpointCheck c = r.divergence().checkpoint();
        assertThat(c.version()).isEqualTo(2);
        assertThat(c.filesAvailable()).isFalse();
        assertThat(c.largest()).isNull();
        assertThat(c.note()).contains("pruned");
    }

    @Test
    void shouldReportDriftWhenTheDifferenceIsWithinTheTolerance() throws IOException {
        // given: v2 pruned, v3 kept
        deleteTree(store.resolve(Learner.checkpointName(2)));

        // when: a small change, a generous tolerance
        ReplayReport r =
                replay(
                        LEARNER,
                        1.0,
                        g -> g.getGroupId().equals("g1-1") ? withAdvantage(g, 0, 1.4) : g);

        // then: v2 cannot be measured, v3 is measured within the tolerance
        assertThat(r.outcome()).isEqualTo(ReplayReport.Outcome.DRIFT);
        assertThat(r.checkpoints())
                .extracting(CheckpointCheck::verdict)
                .containsExactly(
                        CheckpointCheck.Verdict.IDENTICAL,
                        CheckpointCheck.Verdict.UNMEASURED,
                        CheckpointCheck.Verdict.WITHIN_TOLERANCE);
        assertThat(r.maxAbsDiff()).isPositive().isLessThanOrEqualTo(1.0);
        assertThat(r.divergence()).isNull();
    }

    @Test
    void shouldReportMembershipWhenTheStalenessBoundDiffersFromTheRun() throws IOException {
        // when: replayed with maxStaleness 0, batch 2's group sampled by v0 no longer qualifies
        LearnerConfig strict = new LearnerConfig(2, 1, 0, 1, "", 3, 0, 0, 60_000, false, 0);
        ReplayReport r = replay(strict, 0, g -> g);

        // then
        Divergence d = r.divergence();
        assertThat(d.kind()).isEqualTo(Divergence.Kind.MEMBERSHIP);
        assertThat(d.batch()).isEqualTo(2);
        assertThat(d.step()).isEqualTo(3);
        assertThat(d.version()).isEqualTo(1);
        assertThat(d.message()).contains("g1-0", "keeps 0", "recorded 4 kept");
        assertThat(r.checkpoints()).hasSize(1);
    }

    @Test
    void shouldReportStepsWhenTheIterationCountDiffersFromTheRun() throws IOException {
        GrpoConfig three =
                ConfigLoader.of(GrpoConfig.class)
                        .load(
                                ConfigLoader.toYaml(GRPO),
                                "test",
                                Map.of(),
                                List.of(new ConfigLoader.Setting("numIterations", "3", "test")))
                        .value();
        Replayer replayer =
                new Replayer(
                        LEARNER,
                        three,
                        DEVICE,
                        CheckpointLocator.of(null, List.of(store)),
                        Replayer.Options.defaults(),
                        null);
        ReplayReport r =
                replayer.replay(
                        RunLog.of(RUN, steps, checkpoints), ref -> log.get(ref.getOffset()));
        assertThat(r.divergence().kind()).isEqualTo(Divergence.Kind.STEPS);
        assertThat(r.divergence().message()).contains("would run 3 optimizer steps", "records 2");
    }

    @Test
    void shouldRefuseARunWithoutItsStartingCheckpointFiles() throws IOException {
        deleteTree(store.resolve(Learner.checkpointName(0)));
        assertThatThrownBy(() -> replay(LEARNER, 0, g -> g))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("starting checkpoint v0");
    }

    @Test
    void shouldReplayOnlyUpToTheRequestedStep() throws IOException {
        Replayer replayer =
                new Replayer(
                        LEARNER,
                        GRPO,
                        DEVICE,
                        CheckpointLocator.of(null, List.of(store)),
                        new Replayer.Options(3, 0, java.time.Duration.ofSeconds(5)),
                        null);
        ReplayReport r =
                replayer.replay(
                        RunLog.of(RUN, steps, checkpoints), ref -> log.get(ref.getOffset()));
        assertThat(r.outcome()).isEqualTo(ReplayReport.Outcome.IDENTICAL);
        assertThat(r.batchesReplayed()).isEqualTo(2);
        assertThat(r.checkpoints()).hasSize(2);
    }

    @Test
    void shouldNameTheChangesInTheTextSummary() throws IOException {
        ReplayReport r =
                replay(
                        LEARNER,
                        0,
                        g -> g.getGroupId().equals("g1-1") ? withAdvantage(g, 0, -1.5) : g);
        List<String> lines = ReplayText.summary(r);
        assertThat(lines.get(0))
                .startsWith("result      DIVERGED (weights) at step 4, batch 2, version 2:");
        assertThat(lines)
                .anySatisfy(
                        l ->
                                assertThat(l)
                                        .startsWith("first step whose statistics differ: step 3"));
        assertThat(ReplayText.checkpointLine(r.checkpoints().get(0)))
                .contains(
                        "v1",
                        "step 2",
                        "identical",
                        checkpoints.get(1).getSha256().substring(0, 12));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        assertThat(Optional.of(dir).filter(Files::exists)).isEmpty();
        assertThat(Set.of()).isEmpty();
    }
}

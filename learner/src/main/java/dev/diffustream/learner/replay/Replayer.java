package dev.diffustream.learner.replay;

import dev.diffustream.learner.GrpoTrainer;
import dev.diffustream.learner.LearnerConfig;
import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.checkpoint.WeightsDigest;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.config.KafkaConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays a run: rebuilds a learner from the run's starting checkpoint (version 0, as published in
 * {@code checkpoints}) and re-executes every committed batch of its step log with {@link
 * GrpoTrainer} and the run's recorded configuration, then compares each checkpoint the run
 * published with the replayed weights (DESIGN.md, principle 1).
 *
 * <p>Per batch, in step order: the AdvantageGroups named by the batch's TrainSteps are read at
 * their recorded {@code advantages} partition and offset, in the recorded order (which fixes the
 * micro-batches and so the summation order); the learner's member selection ({@link
 * MemberSelection}) is re-applied at the batch's starting version and checked against the recorded
 * counts; the batch's {@code grpo.numIterations} optimizer steps run, and their statistics are
 * compared with the TrainSteps'. After a batch at whose last step the run published a checkpoint,
 * the replayed weights' {@link WeightsDigest} is compared with the recorded sha256; on a mismatch
 * the tensors are compared with the recorded files when they still exist (the learner prunes old
 * checkpoints), giving the parameter with the largest difference.
 *
 * <p>Bit-identity needs the same machine and the same PyTorch thread count (the summation order of
 * the kernels): the replay initialises the engine with the run's {@code policy.device}. Across
 * machines, a tolerance turns differences into measured drift.
 *
 * <p>The replay stops at the first divergence. It reads with {@code read_committed} and no consumer
 * group, and writes nothing to the run's topics or store.
 */
public final class Replayer {
    private static final Logger LOG = LoggerFactory.getLogger(Replayer.class);

    /** Progress callbacks (the command line prints them). */
    public interface Listener {
        /** The log was read and the starting checkpoint loaded. */
        default void started(RunLog log, Checkpoint initial, Path initialDir) {}

        /** One checkpoint was compared. */
        default void checkpoint(CheckpointCheck check) {}
    }

    /**
     * How to replay.
     *
     * @param toStep replay the batches that start at or before this step (0 = all)
     * @param tolerance largest absolute weight difference accepted as drift when hashes differ (0 =
     *     the replay must be sha256-identical)
     * @param readTimeout longest wait for reading the log or one record
     */
    public record Options(long toStep, double tolerance, Duration readTimeout) {
        public Options {
            if (toStep < 0) {
                throw new IllegalArgumentException("--to-step must be >= 0, got " + toStep);
            }
            if (!(tolerance >= 0) || Double.isInfinite(tolerance)) {
                throw new IllegalArgumentException(
                        "--tolerance must be a finite number >= 0, got " + tolerance);
            }
            if (readTimeout == null || readTimeout.isNegative() || readTimeout.isZero()) {
                throw new IllegalArgumentException("read timeout must be > 0, got " + readTimeout);
            }
        }

        /** Everything, bit-identical, 60 s read timeout. */
        public static Options defaults() {
            return new Options(0, 0, Duration.ofSeconds(60));
        }
    }

    private final LearnerConfig learner;
    private final GrpoConfig grpo;
    private final DeviceConfig device;
    private final CheckpointLocator locator;
    private final Options options;
    private final Listener listener;

    /**
     * @param learner the run's {@code learner} section (batching, staleness bound)
     * @param grpo the run's {@code grpo} section
     * @param device the run's {@code policy.device} (thread counts fix the summation order)
     * @param locator where recorded checkpoint files are found
     */
    public Replayer(
            LearnerConfig learner,
            GrpoConfig grpo,
            DeviceConfig device,
            CheckpointLocator locator,
            Options options,
            Listener listener) {
        this.learner = learner;
        this.grpo = grpo;
        this.device = device;
        this.locator = locator;
        this.options = options;
        this.listener = listener == null ? new Listener() {} : listener;
    }

    /** Reads run {@code runId}'s committed log from Kafka and replays it. */
    public ReplayReport replay(KafkaConfig kafka, Topics topics, String runId) throws IOException {
        long started = System.nanoTime();
        RunLog log = RunLog.read(kafka, topics, runId, options.readTimeout());
        try (AdvantageFetcher fetcher =
                new AdvantageFetcher(
                        kafka, topics.advantages(), log.trainedGroups(), options.readTimeout())) {
            return replay(log, fetcher, started);
        }
    }

    /** Replays {@code log}, taking the groups from {@code source} (no Kafka). */
    public ReplayReport replay(RunLog log, GroupSource source) throws IOException {
        return replay(log, source, System.nanoTime());
    }

    private ReplayReport replay(RunLog log, GroupSource source, long started) throws IOException {
        Checkpoint initial =
                log.initial()
                        .orElseThrow(
                                () ->
                                        new IllegalStateException(
                                                "run '"
                                                        + log.runId()
                                                        + "' has no starting checkpoint (version"
                                                        + " 0) in its checkpoints topic: its"
                                                        + " learner never started"));
        Path initialDir =
                locator.locate(initial)
                        .orElseThrow(
                                () ->
                                        new IllegalStateException(
                                                "the files of run '"
                                                        + log.runId()
                                                        + "''s starting checkpoint v0 ("
                                                        + initial.getUri()
                                                        + ") are not found; the learner never"
                                                        + " prunes v0: point --run at the run"
                                                        + " directory or its checkpoint store"));
        DeviceRuntime.initialize(device);
        int threads = DeviceRuntime.threads();
        LoadedPolicy loaded = LoadedPolicy.load(initialDir, device, true, 0, initial.getSha256());
        PolicyModel reference = loaded.model().frozenCopy();
        listener.started(log, initial, initialDir);
        State st = new State();
        try (GrpoTrainer trainer =
                new GrpoTrainer(
                        loaded.model(),
                        reference,
                        loaded.tokenizer(),
                        grpo,
                        learner.groupsPerMicroBatch(),
                        0)) {
            run(log, source, trainer, st);
        } finally {
            loaded.model().close();
            reference.close();
        }
        ReplayReport.Outcome outcome;
        if (st.divergence != null) {
            outcome = ReplayReport.Outcome.DIVERGED;
        } else if (st.checks.stream()
                .anyMatch(c -> c.verdict() != CheckpointCheck.Verdict.IDENTICAL)) {
            outcome = ReplayReport.Outcome.DRIFT;
        } else {
            outcome = ReplayReport.Outcome.IDENTICAL;
        }
        return new ReplayReport(
                log.runId(),
                outcome,
                st.batches,
                log.batches().size(),
                st.steps,
                log.steps().size(),
                st.groups,
                st.members,
                st.droppedStale,
                initial.getSha256(),
                st.checks,
                st.divergence,
                st.firstStepMismatch,
                threads,
                options.tolerance(),
                st.batchNanos / 1e9,
                st.recordedMillis / 1e3,
                (System.nanoTime() - started) / 1e9);
    }

    /** Counters and findings of one replay. */
    private static final class State {
        final List<CheckpointCheck> checks = new ArrayList<>();
        Divergence divergence;
        ReplayReport.StepMismatch firstStepMismatch;
        int batches;
        long steps;
        long groups;
        long members;
        long droppedStale;
        long batchNanos;
        long recordedMillis;
        long version;
    }

    private void run(RunLog log, GroupSource source, GrpoTrainer trainer, State st)
            throws IOException {
        Map<Long, List<Checkpoint>> byStep = log.checkpointsByStep();
        Set<Long> compared = new HashSet<>();
        for (RecordedBatch b : log.batches()) {
            if (options.toStep() > 0 && b.firstStep() > options.toStep()) {
                return;
            }
            if (b.versionBefore() != st.version) {
                st.divergence =
                        logProblem(
                                b,
                                st.version,
                                "the step log says batch "
                                        + b.batch()
                                        + " started from version "
                                        + b.versionBefore()
                                        + ", but the checkpoints before it lead to version "
                                        + st.version);
                return;
            }
            if (b.steps().size() != grpo.numIterations()) {
                st.divergence =
                        new Divergence(
                                Divergence.Kind.STEPS,
                                b.firstStep(),
                                b.batch(),
                                st.version,
                                "batch "
                                        + b.batch()
                                        + " would run "
                                        + grpo.numIterations()
                                        + " optimizer steps (grpo.numIterations), the log records "
                                        + b.steps().size(),
                                null);
                return;
            }
            long t0 = System.nanoTime();
            List<GrpoTrainer.Group> groups = new ArrayList<>();
            int members = 0;
            int stale = 0;
            for (GroupRef ref : b.groups()) {
                AdvantageGroup g = source.fetch(ref);
                if (!log.runId().equals(g.getRunId())) {
                    st.divergence =
                            logProblem(
                                    b,
                                    st.version,
                                    "advantages record "
                                            + ref.getPartition()
                                            + "@"
                                            + ref.getOffset()
                                            + " belongs to run '"
                                            + g.getRunId()
                                            + "'");
                    return;
                }
                MemberSelection.Selection sel =
                        MemberSelection.select(g, st.version, learner.maxStaleness());
                Optional<String> mismatch = MemberSelection.mismatch(ref, sel);
                if (mismatch.isPresent()) {
                    st.divergence =
                            new Divergence(
                                    Divergence.Kind.MEMBERSHIP,
                                    b.firstStep(),
                                    b.batch(),
                                    st.version,
                                    "batch "
                                            + b.batch()
                                            + " (learner.maxStaleness = "
                                            + learner.maxStaleness()
                                            + ", version "
                                            + st.version
                                            + "): "
                                            + mismatch.get(),
                                    null);
                    return;
                }
                groups.add(new GrpoTrainer.Group(g.getGroupId(), sel.kept()));
                members += sel.kept().size();
                stale += sel.droppedStale();
            }
            if (groups.isEmpty()) {
                st.divergence = logProblem(b, st.version, "batch " + b.batch() + " names no group");
                return;
            }
            List<GrpoTrainer.StepStats> stats = trainer.trainBatch(groups);
            st.batchNanos += System.nanoTime() - t0;
            st.recordedMillis += b.recordedMillis();
            st.batches++;
            st.steps += stats.size();
            st.groups += groups.size();
            st.members += members;
            st.droppedStale += stale;
            if (stats.size() != b.steps().size()) {
                st.divergence =
                        new Divergence(
                                Divergence.Kind.STEPS,
                                b.firstStep(),
                                b.batch(),
                                st.version,
                                "batch "
                                        + b.batch()
                                        + " ran "
                                        + stats.size()
                                        + " optimizer steps (grpo.numIterations = "
                                        + grpo.numIterations()
                                        + "), the log records "
                                        + b.steps().size(),
                                null);
                return;
            }
            for (int i = 0; i < stats.size() && st.firstStepMismatch == null; i++) {
                Optional<String> d = StepComparison.firstDifference(b.steps().get(i), stats.get(i));
                if (d.isPresent()) {
                    st.firstStepMismatch =
                            new ReplayReport.StepMismatch(b.steps().get(i).getStep(), d.get());
                    LOG.debug("replay: step {} differs: {}", b.steps().get(i).getStep(), d.get());
                }
            }
            for (Checkpoint c : byStep.getOrDefault(trainer.steps(), List.of())) {
                compared.add(c.getVersion());
                if (c.getVersion() != st.version + 1) {
                    st.divergence =
                            logProblem(
                                    b,
                                    st.version,
                                    "checkpoint v"
                                            + c.getVersion()
                                            + " at step "
                                            + c.getStep()
                                            + " follows version "
                                            + st.version);
                    return;
                }
                CheckpointCheck check = compare(c, b, trainer.policy());
                st.checks.add(check);
                listener.checkpoint(check);
                st.version = c.getVersion();
                if (check.verdict() == CheckpointCheck.Verdict.DIVERGED) {
                    st.divergence =
                            new Divergence(
                                    Divergence.Kind.WEIGHTS,
                                    c.getStep(),
                                    b.batch(),
                                    c.getVersion(),
                                    describe(check),
                                    check);
                    return;
                }
            }
        }
        // Every trained checkpoint up to the last replayed step must have been met at a batch end.
        for (Checkpoint c : log.checkpoints()) {
            if (c.getVersion() > 0
                    && c.getStep() <= trainer.steps()
                    && !compared.contains(c.getVersion())) {
                st.divergence =
                        new Divergence(
                                Divergence.Kind.LOG,
                                c.getStep(),
                                -1,
                                c.getVersion(),
                                "checkpoint v"
                                        + c.getVersion()
                                        + " was published after step "
                                        + c.getStep()
                                        + ", where no batch of the step log ends",
                                null);
                return;
            }
        }
    }

    private static Divergence logProblem(RecordedBatch b, long version, String message) {
        return new Divergence(
                Divergence.Kind.LOG, b.firstStep(), b.batch(), version, message, null);
    }

    private CheckpointCheck compare(Checkpoint c, RecordedBatch b, PolicyModel policy)
            throws IOException {
        String replayed = WeightsDigest.of(policy);
        if (replayed.equals(c.getSha256())) {
            return new CheckpointCheck(
                    c.getVersion(),
                    c.getStep(),
                    b.batch(),
                    c.getSha256(),
                    replayed,
                    CheckpointCheck.Verdict.IDENTICAL,
                    false,
                    null,
                    0,
                    0,
                    "");
        }
        Optional<Path> dir = locator.locate(c);
        String note = "";
        if (dir.isPresent()) {
            String onDisk = WeightsDigest.of(dir.get());
            if (!onDisk.equals(c.getSha256())) {
                note =
                        "the files at "
                                + dir.get()
                                + " have sha256 "
                                + onDisk
                                + ", not the recorded one: tensors not compared";
                dir = Optional.empty();
            }
        } else {
            note =
                    "the recorded files are pruned (learner.keepCheckpoints): only the sha256 was"
                            + " compared";
        }
        if (dir.isEmpty()) {
            CheckpointCheck.Verdict v =
                    options.tolerance() > 0
                            ? CheckpointCheck.Verdict.UNMEASURED
                            : CheckpointCheck.Verdict.DIVERGED;
            return new CheckpointCheck(
                    c.getVersion(),
                    c.getStep(),
                    b.batch(),
                    c.getSha256(),
                    replayed,
                    v,
                    false,
                    null,
                    -1,
                    0,
                    note);
        }
        List<TensorDiff> diffs = WeightsComparison.compare(policy, dir.get());
        int differing = (int) diffs.stream().filter(d -> !d.identical()).count();
        TensorDiff largest = diffs.isEmpty() ? null : diffs.get(0);
        boolean within =
                options.tolerance() > 0
                        && largest != null
                        && largest.maxAbsDiff() <= options.tolerance();
        if (differing == 0) {
            note = "every tensor is bit-identical; the sha256 differs in dtype, shape or names";
        }
        return new CheckpointCheck(
                c.getVersion(),
                c.getStep(),
                b.batch(),
                c.getSha256(),
                replayed,
                within
                        ? CheckpointCheck.Verdict.WITHIN_TOLERANCE
                        : CheckpointCheck.Verdict.DIVERGED,
                true,
                largest,
                differing,
                diffs.size(),
                note);
    }

    /** One sentence on a diverged checkpoint. */
    static String describe(CheckpointCheck c) {
        StringBuilder sb =
                new StringBuilder("checkpoint v")
                        .append(c.version())
                        .append(" (step ")
                        .append(c.step())
                        .append("): weights sha256 ")
                        .append(abbrev(c.replayedSha256()))
                        .append(" instead of the recorded ")
                        .append(abbrev(c.recordedSha256()));
        if (c.largest() != null) {
            sb.append(
                    String.format(
                            java.util.Locale.ROOT,
                            "; largest difference in %s, max abs diff %.3e (%d of %d tensors differ)",
                            c.largest().name(),
                            c.largest().maxAbsDiff(),
                            c.tensorsDiffering(),
                            c.tensorsCompared()));
        }
        if (!c.note().isEmpty()) {
            sb.append("; ").append(c.note());
        }
        return sb.toString();
    }

    static String abbrev(String sha) {
        return sha == null || sha.length() <= 12 ? String.valueOf(sha) : sha.substring(0, 12) + "…";
    }
}

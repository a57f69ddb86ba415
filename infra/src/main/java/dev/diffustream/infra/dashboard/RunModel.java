package dev.diffustream.infra.dashboard;

import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.DeadLetter;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.GroupClose;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.avro.TrainStep;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * The dashboard's in-memory model of one run, fed with the run's events and turned into a {@link
 * DashboardState} snapshot. No I/O: the {@link RunFollower} feeds it from Kafka, unit tests feed it
 * sample events. Thread-safe (one feeding thread, any number of snapshot readers). Memory is
 * bounded: series are thinned ({@link StepSeries}), join buffers and metric names are capped.
 *
 * <p>Events carrying a run id of another run (several runs may share a prefix) are counted per
 * topic and otherwise ignored; metrics with an empty run id (a service that has not learnt its run
 * id yet) are kept, and so are all dead letters (they carry no run id: every one under the prefix
 * counts).
 *
 * <p><b>Staleness histogram.</b> For every trained member: {@code TrainStep.policyVersionBefore −
 * AdvantageMember.policyVersion}, clamped at 0 like the learner's own {@code stalenessMean}. The
 * members come from the AdvantageGroup record at each {@code TrainStep.groups} reference
 * (partition, offset of {@code advantages}); only the first iteration of a batch is counted, since
 * the I steps of a batch train the same members. The learner drops members whose staleness exceeds
 * its bound and records how many ({@code GroupRef.droppedStale}) next to how many it kept ({@code
 * GroupRef.members}); kept members are exactly the least stale ones, so the histogram takes the
 * {@code members} least stale members of the group. Dropped members are counted apart.
 */
public final class RunModel {

    /** The evaluator's held-out pass@1 metric. */
    public static final String PASS_AT_1 = "eval/heldout_pass@1";

    /** The stages whose throughput is shown, in pipeline order (topic base names). */
    public static final List<String> STAGES =
            List.of(
                    Topics.TASKS.baseName(),
                    Topics.COMPLETIONS.baseName(),
                    Topics.EXECUTIONS.baseName(),
                    Topics.ADVANTAGES.baseName(),
                    Topics.TRAIN_STEPS.baseName());

    /** How the staleness histogram is derived (shown on the page). */
    public static final String STALENESS_SOURCE =
            "per trained member: TrainStep.policyVersionBefore − AdvantageMember.policyVersion"
                    + " (clamped at 0), for the members each step's GroupRefs kept (train-steps ⋈"
                    + " advantages by partition/offset; first iteration of each batch)";

    /** Bounds of the model. */
    record Limits(int steps, int evalPoints, int groups, int pendingRefs, int metrics) {
        static Limits defaults() {
            return new Limits(1200, 600, 50_000, 20_000, 500);
        }
    }

    private record GroupKey(int partition, long offset) {}

    private record PendingRef(long versionBefore, int members) {}

    private final String runId;
    private final String prefix;
    private final LongSupplier clock;
    private final Limits limits;
    private final long startedAt;

    // the dashboard's own consumer
    private final Map<String, Long> records = new LinkedHashMap<>();
    private final Map<String, Long> undecodable = new LinkedHashMap<>();
    private final Map<String, Long> otherRuns = new LinkedHashMap<>();
    private final Map<String, RateWindow> rates = new LinkedHashMap<>();
    private boolean caughtUp;
    private List<String> missingTopics = List.of();
    private String consumerError;

    // checkpoints
    private Checkpoint newestCheckpoint;
    private long checkpoints;

    // train-steps
    private TrainStep newestStep;
    private long trainSteps;
    private final StepSeries<DashboardState.StepPoint> steps;

    // metrics
    private final StepSeries<DashboardState.EvalPoint> passAt1;
    private DashboardState.MetricValue passAt1Newest;
    private final Map<String, DashboardState.MetricValue> metrics = new LinkedHashMap<>();
    private long metricNamesDropped;

    // staleness (train-steps ⋈ advantages)
    private final TreeMap<Long, Long> histogram = new TreeMap<>();
    private long trainedMembers;
    private long droppedStale;
    private long resolvedGroups;
    private long unresolvedGroups;
    private final LinkedHashMap<GroupKey, long[]> waitingGroups;
    private final LinkedHashMap<GroupKey, List<PendingRef>> pendingRefs = new LinkedHashMap<>();
    private int pendingRefCount;
    private final LinkedHashMap<GroupKey, Boolean> skippedKeys;

    // advantages
    private long groups;
    private long trainableGroups;
    private final Map<String, Long> dropped = new TreeMap<>();
    private final Map<String, Long> closeReasons = new LinkedHashMap<>();
    private AdvantageGroup newestGroup;

    // executions
    private final EnumMap<Outcome, Long> outcomes = new EnumMap<>(Outcome.class);
    private long executions;

    // dead letters
    private long deadLetters;
    private final Map<String, Long> deadLettersBySource = new TreeMap<>();
    private DeadLetter newestDeadLetter;

    // lag
    private List<DashboardState.LagRow> lagRows = List.of();
    private Long lagUpdatedAt;
    private String lagError;

    /** A model of run {@code runId} under topic prefix {@code prefix}, on the system clock. */
    public RunModel(String runId, String prefix) {
        this(runId, prefix, System::currentTimeMillis, Limits.defaults());
    }

    RunModel(String runId, String prefix, LongSupplier clock, Limits limits) {
        if (runId == null || runId.isBlank()) {
            throw new IllegalArgumentException("dashboard: run id must not be empty");
        }
        this.runId = runId;
        this.prefix = prefix == null ? "" : prefix;
        this.clock = clock;
        this.limits = limits;
        this.startedAt = clock.getAsLong();
        this.steps = new StepSeries<>(limits.steps());
        this.passAt1 = new StepSeries<>(limits.evalPoints());
        this.waitingGroups =
                new LinkedHashMap<>() {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<GroupKey, long[]> eldest) {
                        return size() > limits.groups();
                    }
                };
        this.skippedKeys =
                new LinkedHashMap<>() {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<GroupKey, Boolean> eldest) {
                        return size() > limits.pendingRefs();
                    }
                };
        for (RunTopic t : RunTopic.values()) {
            records.put(t.baseName, 0L);
        }
        for (String stage : STAGES) {
            rates.put(stage, new RateWindow());
        }
        for (Outcome o : Outcome.values()) {
            outcomes.put(o, 0L);
        }
    }

    /** The topics the model knows, by base name. */
    private enum RunTopic {
        TASKS(Topics.TASKS.baseName()),
        COMPLETIONS(Topics.COMPLETIONS.baseName()),
        EXECUTIONS(Topics.EXECUTIONS.baseName()),
        ADVANTAGES(Topics.ADVANTAGES.baseName()),
        CHECKPOINTS(Topics.CHECKPOINTS.baseName()),
        TRAIN_STEPS(Topics.TRAIN_STEPS.baseName()),
        METRICS(Topics.METRICS.baseName()),
        DEAD_LETTERS(Topics.DEAD_LETTERS.baseName());

        final String baseName;

        RunTopic(String baseName) {
            this.baseName = baseName;
        }
    }

    public String runId() {
        return runId;
    }

    /**
     * Counts one record read from topic {@code baseName} (any run), stamped {@code timestampMs}.
     */
    public synchronized void record(String baseName, long timestampMs) {
        records.merge(baseName, 1L, Long::sum);
        RateWindow w = rates.get(baseName);
        if (w != null) {
            w.add(timestampMs, clock.getAsLong());
        }
    }

    /** Counts a record of {@code baseName} that could not be decoded. */
    public synchronized void undecodable(String baseName) {
        undecodable.merge(baseName, 1L, Long::sum);
    }

    private boolean ours(String eventRunId, String baseName) {
        if (runId.equals(eventRunId)) {
            return true;
        }
        otherRuns.merge(baseName, 1L, Long::sum);
        return false;
    }

    public synchronized void onCheckpoint(Checkpoint c) {
        if (!ours(c.getRunId(), RunTopic.CHECKPOINTS.baseName)) {
            return;
        }
        checkpoints++;
        if (newestCheckpoint == null || c.getVersion() >= newestCheckpoint.getVersion()) {
            newestCheckpoint = c;
        }
    }

    public synchronized void onTrainStep(TrainStep s) {
        if (!ours(s.getRunId(), RunTopic.TRAIN_STEPS.baseName)) {
            return;
        }
        trainSteps++;
        if (newestStep == null || s.getStep() >= newestStep.getStep()) {
            newestStep = s;
        }
        steps.put(
                s.getStep(),
                new DashboardState.StepPoint(
                        s.getStep(),
                        s.getPolicyVersionBefore(),
                        s.getLoss(),
                        s.getPolicyLoss(),
                        s.getKl(),
                        s.getClipFractionLow(),
                        s.getClipFractionHigh(),
                        s.getGradNorm(),
                        s.getLearningRate(),
                        s.getRewardMean(),
                        s.getRewardStd(),
                        s.getStalenessMean(),
                        s.getStalenessMax(),
                        s.getTokens(),
                        s.getDurationMs()));
        if (s.getIteration() != 0) {
            return; // the I steps of a batch share their members: count them once
        }
        for (GroupRef ref : s.getSkippedGroups()) {
            droppedStale += ref.getDroppedStale();
            GroupKey key = new GroupKey(ref.getPartition(), ref.getOffset());
            if (waitingGroups.remove(key) == null) {
                skippedKeys.put(key, Boolean.TRUE);
            }
        }
        for (GroupRef ref : s.getGroups()) {
            droppedStale += ref.getDroppedStale();
            GroupKey key = new GroupKey(ref.getPartition(), ref.getOffset());
            long[] versions = waitingGroups.remove(key);
            if (versions != null) {
                countMembers(s.getPolicyVersionBefore(), ref.getMembers(), versions);
            } else {
                pendingRefs
                        .computeIfAbsent(key, k -> new ArrayList<>())
                        .add(new PendingRef(s.getPolicyVersionBefore(), ref.getMembers()));
                pendingRefCount++;
                evictPending();
            }
        }
    }

    private void evictPending() {
        Iterator<Map.Entry<GroupKey, List<PendingRef>>> it = pendingRefs.entrySet().iterator();
        while (pendingRefCount > limits.pendingRefs() && it.hasNext()) {
            List<PendingRef> refs = it.next().getValue();
            pendingRefCount -= refs.size();
            unresolvedGroups += refs.size();
            it.remove();
        }
    }

    /** Adds the {@code kept} least stale members of a group to the histogram. */
    private void countMembers(long versionBefore, int kept, long[] memberVersions) {
        long[] staleness = new long[memberVersions.length];
        for (int i = 0; i < memberVersions.length; i++) {
            staleness[i] = versionBefore - memberVersions[i];
        }
        Arrays.sort(staleness);
        int n = Math.min(kept, staleness.length);
        for (int i = 0; i < n; i++) {
            histogram.merge(Math.max(0, staleness[i]), 1L, Long::sum);
        }
        trainedMembers += n;
        resolvedGroups++;
    }

    /**
     * An AdvantageGroup read from {@code advantages} at ({@code partition}, {@code offset}): the
     * coordinates TrainStep's GroupRefs point at.
     */
    public synchronized void onAdvantageGroup(AdvantageGroup g, int partition, long offset) {
        if (!ours(g.getRunId(), RunTopic.ADVANTAGES.baseName)) {
            return;
        }
        groups++;
        newestGroup = g;
        closeReasons.merge(closeName(g.getCloseReason()), 1L, Long::sum);
        if (g.getDropReason() != null) {
            dropped.merge(g.getDropReason(), 1L, Long::sum);
            return; // never trained on: no TrainStep.groups reference will come
        }
        trainableGroups++;
        long[] versions =
                g.getMembers().stream().mapToLong(AdvantageMember::getPolicyVersion).toArray();
        GroupKey key = new GroupKey(partition, offset);
        List<PendingRef> waiting = pendingRefs.remove(key);
        if (waiting != null) {
            pendingRefCount -= waiting.size();
            for (PendingRef p : waiting) {
                countMembers(p.versionBefore(), p.members(), versions);
            }
        } else if (skippedKeys.remove(key) == null) {
            waitingGroups.put(key, versions);
        }
    }

    private static String closeName(GroupClose c) {
        return c == null ? GroupClose.UNKNOWN.name() : c.name();
    }

    public synchronized void onExecution(Execution e) {
        if (!ours(e.getRunId(), RunTopic.EXECUTIONS.baseName)) {
            return;
        }
        executions++;
        Outcome o = e.getOutcome() == null ? Outcome.UNKNOWN : e.getOutcome();
        outcomes.merge(o, 1L, Long::sum);
    }

    public synchronized void onMetric(Metric m) {
        if (!m.getRunId().isEmpty() && !ours(m.getRunId(), RunTopic.METRICS.baseName)) {
            return;
        }
        DashboardState.MetricValue v =
                new DashboardState.MetricValue(
                        m.getSource(),
                        m.getName(),
                        m.getValue(),
                        m.getStep(),
                        m.getPolicyVersion(),
                        m.getTimestamp() == null ? 0 : m.getTimestamp().toEpochMilli());
        String key = m.getSource() + "\u0000" + m.getName();
        if (metrics.containsKey(key) || metrics.size() < limits.metrics()) {
            DashboardState.MetricValue old = metrics.get(key);
            if (old == null || v.timestamp() >= old.timestamp()) {
                metrics.put(key, v);
            }
        } else {
            metricNamesDropped++;
        }
        if (PASS_AT_1.equals(m.getName())) {
            if (m.getStep() != null) {
                passAt1.put(
                        m.getStep(),
                        new DashboardState.EvalPoint(
                                m.getStep(), m.getValue(), m.getPolicyVersion()));
            }
            if (passAt1Newest == null
                    || (m.getStep() != null
                            && (passAt1Newest.step() == null
                                    || m.getStep() >= passAt1Newest.step()))) {
                passAt1Newest = v;
            }
        }
    }

    public synchronized void onDeadLetter(DeadLetter d) {
        deadLetters++;
        deadLettersBySource.merge(d.getService() + " ← " + d.getSourceTopic(), 1L, Long::sum);
        if (newestDeadLetter == null
                || !d.getTimestamp().isBefore(newestDeadLetter.getTimestamp())) {
            newestDeadLetter = d;
        }
    }

    /** The newest lag figures (from the {@link LagProbe}). */
    public synchronized void onLag(List<DashboardState.LagRow> rows, long at) {
        lagRows = List.copyOf(rows);
        lagUpdatedAt = at;
        lagError = null;
    }

    /** The lag probe failed; the previous figures stay, marked with the error. */
    public synchronized void onLagError(String error) {
        lagError = error;
    }

    /** The follower's status. */
    public synchronized void consumerStatus(
            boolean caughtUp, List<String> missingTopics, String error) {
        this.caughtUp = caughtUp;
        this.missingTopics = List.copyOf(missingTopics);
        this.consumerError = error;
    }

    /** A snapshot of everything. */
    public synchronized DashboardState snapshot() {
        long now = clock.getAsLong();
        return new DashboardState(
                runId,
                prefix,
                now,
                startedAt,
                new DashboardState.Consumer(
                        caughtUp,
                        missingTopics,
                        Map.copyOf(records),
                        Map.copyOf(undecodable),
                        Map.copyOf(otherRuns),
                        consumerError),
                policy(),
                learner(),
                newestStep == null
                        ? new DashboardState.Reward(null, null, null)
                        : new DashboardState.Reward(
                                newestStep.getRewardMean(),
                                newestStep.getRewardStd(),
                                newestStep.getStep()),
                eval(),
                staleness(),
                new DashboardState.Lag(lagUpdatedAt, lagError, lagRows),
                outcomesView(),
                throughput(now),
                steps.values(),
                new DashboardState.Groups(
                        groups,
                        trainableGroups,
                        new LinkedHashMap<>(dropped),
                        new LinkedHashMap<>(closeReasons),
                        newestGroup == null ? null : newestGroup.getRewardMean(),
                        newestGroup == null ? null : newestGroup.getRewardStd()),
                deadLettersView(),
                metricsView());
    }

    private DashboardState.Policy policy() {
        Checkpoint c = newestCheckpoint;
        if (c == null) {
            return new DashboardState.Policy(null, null, null, null, null, null, 0);
        }
        return new DashboardState.Policy(
                c.getVersion(),
                c.getStep(),
                c.getSha256(),
                c.getKind() == null ? null : c.getKind().name(),
                c.getUri(),
                c.getCreatedAt() == null ? null : c.getCreatedAt().toEpochMilli(),
                checkpoints);
    }

    private DashboardState.Learner learner() {
        TrainStep s = newestStep;
        if (s == null) {
            return new DashboardState.Learner(null, null, null, null, null, null, null, 0);
        }
        return new DashboardState.Learner(
                s.getStep(),
                s.getBatch(),
                s.getPolicyVersionBefore(),
                s.getDurationMs(),
                s.getTokens(),
                s.getLearningRate(),
                s.getFinishedAt() == null ? null : s.getFinishedAt().toEpochMilli(),
                trainSteps);
    }

    private DashboardState.Eval eval() {
        DashboardState.MetricValue v = passAt1Newest;
        return new DashboardState.Eval(
                PASS_AT_1,
                v == null ? null : v.value(),
                v == null ? null : v.step(),
                v == null ? null : v.policyVersion(),
                v == null ? null : v.timestamp(),
                passAt1.values());
    }

    private DashboardState.Staleness staleness() {
        List<DashboardState.Bucket> buckets = new ArrayList<>();
        double sum = 0;
        for (Map.Entry<Long, Long> e : histogram.entrySet()) {
            buckets.add(new DashboardState.Bucket(e.getKey(), e.getValue()));
            sum += (double) e.getKey() * e.getValue();
        }
        return new DashboardState.Staleness(
                STALENESS_SOURCE,
                buckets,
                trainedMembers,
                droppedStale,
                trainedMembers == 0 ? null : sum / trainedMembers,
                histogram.isEmpty() ? null : histogram.lastKey(),
                resolvedGroups,
                pendingRefCount,
                unresolvedGroups,
                newestStep == null ? null : newestStep.getStalenessMean(),
                newestStep == null ? null : newestStep.getStalenessMax());
    }

    private DashboardState.Outcomes outcomesView() {
        Map<String, Long> counts = new LinkedHashMap<>();
        outcomes.forEach((o, n) -> counts.put(o.name(), n));
        return new DashboardState.Outcomes(executions, counts);
    }

    private List<DashboardState.Throughput> throughput(long now) {
        List<DashboardState.Throughput> out = new ArrayList<>();
        for (Map.Entry<String, RateWindow> e : rates.entrySet()) {
            long n = e.getValue().lastMinute(now);
            out.add(
                    new DashboardState.Throughput(
                            e.getKey(),
                            n,
                            n / (double) RateWindow.WINDOW_SECONDS,
                            e.getValue().total()));
        }
        return out;
    }

    private DashboardState.DeadLetters deadLettersView() {
        DeadLetter d = newestDeadLetter;
        return new DashboardState.DeadLetters(
                deadLetters,
                new LinkedHashMap<>(deadLettersBySource),
                d == null
                        ? null
                        : new DashboardState.DeadLetterView(
                                d.getService(),
                                d.getSourceTopic(),
                                d.getSourcePartition(),
                                d.getSourceOffset(),
                                d.getErrorClass(),
                                d.getError(),
                                d.getTimestamp().toEpochMilli()));
    }

    private List<DashboardState.MetricValue> metricsView() {
        List<DashboardState.MetricValue> out = new ArrayList<>(metrics.values());
        out.sort(
                Comparator.comparing(DashboardState.MetricValue::name)
                        .thenComparing(DashboardState.MetricValue::source));
        return out;
    }

    /** Distinct (source, metric) pairs beyond the bound, not kept. */
    synchronized long metricNamesDropped() {
        return metricNamesDropped;
    }
}

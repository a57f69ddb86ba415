package dev.diffustream.cli.pipeline;

import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.TrainStep;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.stream.Collectors;

/**
 * The learner's step log as a run left it ({@code train-steps}, read_committed, in log order) and
 * the checks the crash tests make on it. Each check returns the violations it found, as readable
 * lines (empty = the property holds), so a failing test says exactly which group or step broke it.
 * Pure functions of the records: {@code StepLogTest} shows that each one catches its violation.
 */
final class StepLog {

    /** Drop reasons of the advantage topology under which the learner may skip a group. */
    static final Set<String> DOCUMENTED_DROP_REASONS = Set.of("zero_variance", "partial");

    private final List<TrainStep> steps;

    StepLog(List<TrainStep> steps) {
        this.steps = List.copyOf(steps);
    }

    List<TrainStep> steps() {
        return steps;
    }

    /** Group ids in the {@code groups} of some step. */
    Set<String> trained() {
        return steps.stream()
                .flatMap(s -> s.getGroups().stream())
                .map(GroupRef::getGroupId)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Group ids in the {@code skippedGroups} of some step. */
    Set<String> skipped() {
        return steps.stream()
                .flatMap(s -> s.getSkippedGroups().stream())
                .map(GroupRef::getGroupId)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Trained at most once: no group id in two different batches, nor twice in one step. */
    List<String> groupsTrainedTwice() {
        Map<String, Set<Long>> batches = new LinkedHashMap<>();
        List<String> out = new ArrayList<>();
        for (TrainStep s : steps) {
            Set<String> inStep = new LinkedHashSet<>();
            for (GroupRef g : s.getGroups()) {
                if (!inStep.add(g.getGroupId())) {
                    out.add(g.getGroupId() + " appears twice in step " + s.getStep());
                }
                batches.computeIfAbsent(g.getGroupId(), k -> new TreeSet<>()).add(s.getBatch());
            }
        }
        batches.forEach(
                (g, b) -> {
                    if (b.size() > 1) {
                        out.add(g + " trained in batches " + b);
                    }
                });
        return out;
    }

    /** Skipped at most once, and never both skipped and trained. */
    List<String> groupsSkippedTwiceOrAlsoTrained() {
        List<String> out = new ArrayList<>();
        Map<String, Integer> count = new HashMap<>();
        for (TrainStep s : steps) {
            for (GroupRef g : s.getSkippedGroups()) {
                count.merge(g.getGroupId(), 1, Integer::sum);
            }
        }
        Set<String> trained = trained();
        count.forEach(
                (g, n) -> {
                    if (n > 1) {
                        out.add(g + " recorded as skipped " + n + " times");
                    }
                    if (trained.contains(g)) {
                        out.add(g + " recorded as skipped and as trained");
                    }
                });
        return out;
    }

    /** None skipped without a trace: trained ∪ skipped is exactly {@code expected}. */
    List<String> coverageProblems(Set<String> expected) {
        Set<String> settled = new TreeSet<>(trained());
        settled.addAll(skipped());
        List<String> out = new ArrayList<>();
        for (String g : new TreeSet<>(expected)) {
            if (!settled.contains(g)) {
                out.add(g + " neither trained nor skipped");
            }
        }
        for (String g : settled) {
            if (!expected.contains(g)) {
                out.add(g + " settled but not one of the run's groups");
            }
        }
        return out;
    }

    /**
     * Skipped only for the documented reasons: the advantages record the reference points to is
     * that group and was dropped by the topology ({@link #DOCUMENTED_DROP_REASONS}), or every
     * member was too stale ({@code members == 0}, {@code droppedStale} = the group's size).
     *
     * @param advantageAt the committed advantages record at (partition, offset), or null
     */
    List<String> skipReasonProblems(BiFunction<Integer, Long, AdvantageGroup> advantageAt) {
        List<String> out = new ArrayList<>();
        for (TrainStep s : steps) {
            for (GroupRef g : s.getSkippedGroups()) {
                AdvantageGroup a = advantageAt.apply(g.getPartition(), g.getOffset());
                String where = "advantages-" + g.getPartition() + "@" + g.getOffset();
                if (a == null || !a.getGroupId().equals(g.getGroupId())) {
                    out.add(
                            g.getGroupId()
                                    + " skipped in step "
                                    + s.getStep()
                                    + " but "
                                    + where
                                    + " is "
                                    + (a == null ? "no committed record" : a.getGroupId()));
                    continue;
                }
                boolean dropped =
                        a.getDropReason() != null
                                && DOCUMENTED_DROP_REASONS.contains(a.getDropReason());
                boolean allStale =
                        g.getMembers() == 0
                                && g.getDroppedStale() > 0
                                && g.getDroppedStale() == a.getMembers().size();
                if (!dropped && !allStale) {
                    out.add(
                            g.getGroupId()
                                    + " skipped in step "
                                    + s.getStep()
                                    + " without a documented reason (dropReason "
                                    + a.getDropReason()
                                    + ", members "
                                    + g.getMembers()
                                    + ", droppedStale "
                                    + g.getDroppedStale()
                                    + ")");
                }
            }
        }
        return out;
    }

    /**
     * Every trained reference points at the committed, trainable advantages record of its group.
     */
    List<String> trainedRefProblems(BiFunction<Integer, Long, AdvantageGroup> advantageAt) {
        List<String> out = new ArrayList<>();
        Set<String> reported = new TreeSet<>();
        for (TrainStep s : steps) {
            for (GroupRef g : s.getGroups()) {
                AdvantageGroup a = advantageAt.apply(g.getPartition(), g.getOffset());
                String where = "advantages-" + g.getPartition() + "@" + g.getOffset();
                if (a == null || !a.getGroupId().equals(g.getGroupId())) {
                    if (reported.add(g.getGroupId())) {
                        out.add(
                                g.getGroupId()
                                        + " trained in step "
                                        + s.getStep()
                                        + " but "
                                        + where
                                        + " is "
                                        + (a == null ? "no committed record" : a.getGroupId()));
                    }
                } else if (a.getDropReason() != null && reported.add(g.getGroupId())) {
                    out.add(
                            g.getGroupId()
                                    + " trained although dropped ("
                                    + a.getDropReason()
                                    + ")");
                }
            }
        }
        return out;
    }

    /** Steps 1..S in log order, without gaps or repeats. */
    List<String> numberingProblems() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            long expected = i + 1;
            if (steps.get(i).getStep() != expected) {
                out.add(
                        "record "
                                + i
                                + " of the step log is step "
                                + steps.get(i).getStep()
                                + ", expected "
                                + expected);
            }
        }
        return out;
    }

    /**
     * Batches are whole: batch numbers 1, 2, … in order, each with exactly {@code iterations}
     * steps, iterations 0..I-1, the same groups in every step, skipped groups only on the first.
     */
    List<String> batchProblems(int iterations) {
        Map<Long, List<TrainStep>> byBatch = new LinkedHashMap<>();
        for (TrainStep s : steps) {
            byBatch.computeIfAbsent(s.getBatch(), k -> new ArrayList<>()).add(s);
        }
        List<String> out = new ArrayList<>();
        long expectedBatch = 1;
        for (Map.Entry<Long, List<TrainStep>> e : byBatch.entrySet()) {
            long b = e.getKey();
            List<TrainStep> list = e.getValue();
            if (b != expectedBatch) {
                out.add("batch " + b + " where batch " + expectedBatch + " was expected");
            }
            expectedBatch = b + 1;
            if (list.size() != iterations) {
                out.add("batch " + b + " has " + list.size() + " steps, expected " + iterations);
            }
            Set<String> first = ids(list.get(0).getGroups());
            for (int i = 0; i < list.size(); i++) {
                TrainStep s = list.get(i);
                if (s.getIteration() != i) {
                    out.add(
                            "step "
                                    + s.getStep()
                                    + " of batch "
                                    + b
                                    + " has iteration "
                                    + s.getIteration()
                                    + ", expected "
                                    + i);
                }
                if (!ids(s.getGroups()).equals(first)) {
                    out.add(
                            "step "
                                    + s.getStep()
                                    + " of batch "
                                    + b
                                    + " trains "
                                    + ids(s.getGroups())
                                    + ", its batch "
                                    + first);
                }
                if (i > 0 && !s.getSkippedGroups().isEmpty()) {
                    out.add(
                            "step "
                                    + s.getStep()
                                    + " (iteration "
                                    + i
                                    + ") records skipped"
                                    + " groups; only a batch's first step may");
                }
                if (s.getGroups().isEmpty()) {
                    out.add("step " + s.getStep() + " trains no group");
                }
            }
        }
        return out;
    }

    /**
     * Training resumed from the newest checkpoint committed before a kill: the first step after it
     * continues its numbering, starts from its policy version, and was trained by the restarted
     * learner (finished after the restart).
     */
    List<String> resumeProblems(Checkpoint newestBeforeKill, Instant restartedAt) {
        List<String> out = new ArrayList<>();
        long next = newestBeforeKill.getStep() + 1;
        Optional<TrainStep> first = steps.stream().filter(s -> s.getStep() == next).findFirst();
        if (first.isEmpty()) {
            out.add(
                    "no step "
                            + next
                            + " after checkpoint v"
                            + newestBeforeKill.getVersion()
                            + " (step "
                            + newestBeforeKill.getStep()
                            + ")");
            return out;
        }
        TrainStep s = first.get();
        if (s.getPolicyVersionBefore() != newestBeforeKill.getVersion()) {
            out.add(
                    "step "
                            + next
                            + " starts from policy v"
                            + s.getPolicyVersionBefore()
                            + ", but the newest checkpoint before the kill is v"
                            + newestBeforeKill.getVersion());
        }
        if (s.getFinishedAt().isBefore(restartedAt)) {
            out.add(
                    "step "
                            + next
                            + " finished at "
                            + s.getFinishedAt()
                            + ", before the learner was restarted at "
                            + restartedAt
                            + ": it is not the restarted learner's");
        }
        steps.stream()
                .filter(x -> x.getStep() <= newestBeforeKill.getStep())
                .filter(x -> x.getFinishedAt().isAfter(restartedAt))
                .forEach(
                        x ->
                                out.add(
                                        "step "
                                                + x.getStep()
                                                + " (covered by checkpoint v"
                                                + newestBeforeKill.getVersion()
                                                + ") was trained again after the restart"));
        return out;
    }

    /**
     * Steps that some learner wrote but never committed: records of the uncommitted log that are
     * not in this (committed) log, matched on (step, finishedAt).
     */
    List<TrainStep> abortedAmong(List<TrainStep> uncommitted) {
        Set<String> committed = steps.stream().map(StepLog::identity).collect(Collectors.toSet());
        return uncommitted.stream().filter(s -> !committed.contains(identity(s))).toList();
    }

    private static String identity(TrainStep s) {
        return s.getStep() + "@" + Objects.toString(s.getFinishedAt());
    }

    private static Set<String> ids(List<GroupRef> refs) {
        return refs.stream()
                .map(GroupRef::getGroupId)
                .collect(Collectors.toCollection(TreeSet::new));
    }
}

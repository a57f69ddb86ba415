package dev.diffustream.streams;

import dev.diffustream.schemas.avro.Outcome;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the topology knows about one group (value of {@link AdvantageTopology#GROUPS_STORE}, key =
 * group id): while open, one {@link Slot} per completion id seen, with the execution's outcome and
 * rewards folded in (the completion's payload lives in {@link AdvantageTopology#MEMBERS_STORE});
 * once closed, only a marker with the close time, so late records can be recognised and dropped.
 *
 * <p>Kept small on purpose: it is rewritten (and changelogged) on every record of the group, while
 * the few-KB completion payloads are written once each.
 */
public final class GroupState {

    /** One member of a group, identified by its completion id. */
    public static final class Slot {
        private final String completionId;
        private int memberIndex = -1;
        private boolean hasCompletion;
        private boolean stored;
        private long policyVersion = -1;
        private boolean hasExecution;
        private Outcome outcome = Outcome.UNKNOWN;
        private double formatReward;
        private double codeReward;
        private int attempt;

        Slot(String completionId) {
            this.completionId = completionId;
        }

        public String completionId() {
            return completionId;
        }

        public int memberIndex() {
            return memberIndex;
        }

        /** Whether the Completion arrived. */
        public boolean hasCompletion() {
            return hasCompletion;
        }

        /** Whether its payload is in the members store (not after a SANDBOX_ERROR). */
        public boolean stored() {
            return stored;
        }

        public long policyVersion() {
            return policyVersion;
        }

        /** Whether the Execution arrived. */
        public boolean hasExecution() {
            return hasExecution;
        }

        public Outcome outcome() {
            return outcome;
        }

        public double formatReward() {
            return formatReward;
        }

        public double codeReward() {
            return codeReward;
        }

        public int attempt() {
            return attempt;
        }

        /** The sandbox itself failed: the member leaves the group (never a reward of 0). */
        public boolean excluded() {
            return hasExecution && outcome == Outcome.SANDBOX_ERROR;
        }

        /** Completion and a usable execution both arrived. */
        public boolean scored() {
            return hasCompletion && hasExecution && !excluded();
        }

        void completionArrived(int memberIndex, long policyVersion, boolean stored) {
            this.hasCompletion = true;
            this.memberIndex = memberIndex;
            this.policyVersion = policyVersion;
            this.stored = stored;
        }

        void executionArrived(
                Outcome outcome, double formatReward, double codeReward, int attempt) {
            this.hasExecution = true;
            this.outcome = outcome;
            this.formatReward = formatReward;
            this.codeReward = codeReward;
            this.attempt = attempt;
        }

        void unstored() {
            this.stored = false;
        }

        void restore(
                int memberIndex,
                boolean hasCompletion,
                boolean stored,
                long policyVersion,
                boolean hasExecution,
                Outcome outcome,
                double formatReward,
                double codeReward,
                int attempt) {
            this.memberIndex = memberIndex;
            this.hasCompletion = hasCompletion;
            this.stored = stored;
            this.policyVersion = policyVersion;
            this.hasExecution = hasExecution;
            this.outcome = outcome;
            this.formatReward = formatReward;
            this.codeReward = codeReward;
            this.attempt = attempt;
        }
    }

    private final boolean closed;
    private final long closedAtMs;
    private String runId;
    private String taskId;
    private int groupSize;
    private final long firstSeenMs;
    private final long deadlineMs;
    private final Map<String, Slot> slots;

    private GroupState(
            boolean closed,
            long closedAtMs,
            String runId,
            String taskId,
            int groupSize,
            long firstSeenMs,
            long deadlineMs) {
        this.closed = closed;
        this.closedAtMs = closedAtMs;
        this.runId = runId;
        this.taskId = taskId;
        this.groupSize = groupSize;
        this.firstSeenMs = firstSeenMs;
        this.deadlineMs = deadlineMs;
        this.slots = closed ? Map.of() : new LinkedHashMap<>();
    }

    /**
     * A new open group first seen at {@code nowMs}, closing at {@code deadlineMs} at the latest.
     */
    public static GroupState open(
            String runId, String taskId, int groupSize, long nowMs, long deadlineMs) {
        return new GroupState(false, -1, clip(runId), clip(taskId), groupSize, nowMs, deadlineMs);
    }

    /** Descriptive ids are kept to 1024 characters (the state format stores short strings). */
    private static String clip(String s) {
        if (s == null) {
            return "";
        }
        return s.length() <= 1024 ? s : s.substring(0, 1024);
    }

    /** The marker left behind by a group closed at {@code closedAtMs}. */
    public static GroupState closed(long closedAtMs) {
        return new GroupState(true, closedAtMs, "", "", 0, -1, -1);
    }

    public boolean isClosed() {
        return closed;
    }

    public long closedAtMs() {
        return closedAtMs;
    }

    public String runId() {
        return runId;
    }

    public String taskId() {
        return taskId;
    }

    /** G, or 0 while no event carrying it has arrived. */
    public int groupSize() {
        return groupSize;
    }

    public long firstSeenMs() {
        return firstSeenMs;
    }

    public long deadlineMs() {
        return deadlineMs;
    }

    /** The slots, in arrival order. */
    public Collection<Slot> slots() {
        return slots.values();
    }

    /** The slot of a completion id, or null. */
    public Slot slot(String completionId) {
        return slots.get(completionId);
    }

    /** The slot of a completion id, created if absent. */
    Slot slotFor(String completionId) {
        if (closed) {
            throw new IllegalStateException("a closed group has no slots");
        }
        return slots.computeIfAbsent(completionId, Slot::new);
    }

    /** Fills in identity fields a first Execution could not provide. */
    void learn(String runId, String taskId, int groupSize) {
        if (this.runId.isEmpty()) {
            this.runId = clip(runId);
        }
        if (this.taskId.isEmpty()) {
            this.taskId = clip(taskId);
        }
        if (this.groupSize <= 0 && groupSize > 0) {
            this.groupSize = groupSize;
        }
    }

    /** Members whose fate is known: scored or excluded. */
    public int resolved() {
        int n = 0;
        for (Slot s : slots.values()) {
            if (s.scored() || s.excluded()) {
                n++;
            }
        }
        return n;
    }

    /** All G members resolved. */
    public boolean complete() {
        return groupSize > 0 && resolved() >= groupSize;
    }

    /** Scored members ordered by member index (then completion id). */
    public List<Slot> scoredByIndex() {
        List<Slot> out = new ArrayList<>();
        for (Slot s : slots.values()) {
            if (s.scored()) {
                out.add(s);
            }
        }
        out.sort(Comparator.comparingInt(Slot::memberIndex).thenComparing(Slot::completionId));
        return out;
    }

    /** Members removed by SANDBOX_ERROR. */
    public int excluded() {
        int n = 0;
        for (Slot s : slots.values()) {
            if (s.excluded()) {
                n++;
            }
        }
        return n;
    }
}

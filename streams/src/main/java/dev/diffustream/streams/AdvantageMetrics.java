package dev.diffustream.streams;

import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.telemetry.Telemetry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The metrics of the advantage topology (STYLE rule 14: fixed slash-namespaced names), accumulated
 * per stream task between two publications and published to {@code metrics} by the topology itself
 * (inside its transactions), tagged with the task id. Counters are per interval (deltas); reward
 * statistics are per policy version over the groups closed in the interval.
 *
 * <p>Accumulators live in memory: after a crash the records since the last commit are reprocessed
 * and counted again, but counts from committed records not yet published are lost. Metrics are
 * operational; the advantages themselves are exact.
 */
public final class AdvantageMetrics {

    /** Mean reward over the scored members of groups closed in the interval, per version. */
    public static final String REWARDS_MEAN = "rewards/mean";

    /** Mean over closed groups of the group's unbiased reward std (TRL's reward_std). */
    public static final String REWARDS_STD = "rewards/std";

    /** Fraction of closed groups (with >= 2 members) whose reward std < 1e-6. */
    public static final String REWARDS_FRAC_ZERO_STD = "rewards/frac_zero_std";

    /** Groups emitted to {@code advantages} (trainable or with a dropReason). */
    public static final String GROUPS_EMITTED = "groups/emitted";

    /** Groups closed because all G members were resolved. */
    public static final String GROUPS_COMPLETE = "groups/complete";

    /** Groups closed by the wall-clock deadline with members missing. */
    public static final String GROUPS_PARTIAL = "groups/partial";

    /** Groups emitted with a dropReason (not trained on), any reason. */
    public static final String GROUPS_DROPPED = "groups/dropped";

    /** Groups dropped because fewer than minMembers were scored. */
    public static final String GROUPS_DROPPED_PARTIAL = "groups/dropped_partial";

    /** Groups dropped because their rewards had zero variance. */
    public static final String GROUPS_DROPPED_ZERO_VARIANCE = "groups/dropped_zero_variance";

    /** Records that arrived for an already-closed group (counted and dropped). */
    public static final String GROUPS_LATE = "groups/late";

    /** Records whose completion id was already seen (re-sent completion, retried execution). */
    public static final String RECORDS_DUPLICATE = "records/duplicate";

    /** Executions with outcome SANDBOX_ERROR: the member left its group. */
    public static final String RECORDS_SANDBOX_ERROR = "records/sandbox_error";

    /** Decodable records that were invalid (e.g. key ≠ groupId) and went to dead-letters. */
    public static final String RECORDS_INVALID = "records/invalid";

    /** Mean wall-clock time from a group's first record to its emission, ms. */
    public static final String GROUPS_LATENCY_MS = "groups/latency_ms";

    /** Max wall-clock time from a group's first record to its emission, ms. */
    public static final String GROUPS_LATENCY_MS_MAX = "groups/latency_ms_max";

    /** Every counter name, in publication order. */
    public static final List<String> COUNTERS =
            List.of(
                    GROUPS_EMITTED,
                    GROUPS_COMPLETE,
                    GROUPS_PARTIAL,
                    GROUPS_DROPPED,
                    GROUPS_DROPPED_PARTIAL,
                    GROUPS_DROPPED_ZERO_VARIANCE,
                    GROUPS_LATE,
                    RECORDS_DUPLICATE,
                    RECORDS_SANDBOX_ERROR,
                    RECORDS_INVALID);

    private static final class VersionStats {
        long members;
        double rewardSum;
        long groupsWithStd;
        double stdSum;
        long zeroStd;
    }

    private final String source;
    private final String task;
    private final Map<String, Long> counters = new TreeMap<>();
    private final Map<Long, VersionStats> byVersion = new TreeMap<>();
    private long latencyCount;
    private long latencySum;
    private long latencyMax;
    private String runId = "";

    /**
     * @param source the {@code source} of every sample
     * @param task the stream task id, as a tag
     */
    public AdvantageMetrics(String source, String task) {
        this.source = source;
        this.task = task;
    }

    /** Adds one to a counter. */
    public void count(String name) {
        counters.merge(name, 1L, Long::sum);
    }

    /** The current (unpublished) value of a counter. */
    public long counter(String name) {
        return counters.getOrDefault(name, 0L);
    }

    /** Remembers the run id for the samples. */
    public void run(String runId) {
        if (runId != null && !runId.isEmpty()) {
            this.runId = runId;
        }
    }

    /**
     * Records a closed group's rewards.
     *
     * @param policyVersion the oldest policy version among its members
     * @param rewards the scored members' rewards
     * @param std the group's unbiased std, NaN if fewer than 2 members
     * @param zeroStd whether std < 1e-6
     */
    public void groupRewards(long policyVersion, double[] rewards, double std, boolean zeroStd) {
        VersionStats v = byVersion.computeIfAbsent(policyVersion, k -> new VersionStats());
        for (double r : rewards) {
            v.members++;
            v.rewardSum += r;
        }
        if (!Double.isNaN(std)) {
            v.groupsWithStd++;
            v.stdSum += std;
            if (zeroStd) {
                v.zeroStd++;
            }
        }
    }

    /** Records the first-record-to-emission latency of an emitted group. */
    public void latency(long ms) {
        latencyCount++;
        latencySum += ms;
        latencyMax = Math.max(latencyMax, ms);
    }

    /** Whether anything was recorded since the last {@link #drain}. */
    public boolean isEmpty() {
        return counters.isEmpty() && byVersion.isEmpty() && latencyCount == 0;
    }

    /**
     * The samples of the interval ending at {@code nowMs}, and resets the accumulators. Empty when
     * nothing happened (no sample noise from idle tasks).
     */
    public List<Metric> drain(long nowMs) {
        List<Metric> out = new ArrayList<>();
        if (isEmpty()) {
            return out;
        }
        Instant at = Instant.ofEpochMilli(nowMs);
        for (String name : COUNTERS) {
            out.add(sample(name, counters.getOrDefault(name, 0L), null, at));
        }
        for (Map.Entry<Long, VersionStats> e : byVersion.entrySet()) {
            VersionStats v = e.getValue();
            if (v.members > 0) {
                out.add(sample(REWARDS_MEAN, v.rewardSum / v.members, e.getKey(), at));
            }
            if (v.groupsWithStd > 0) {
                out.add(sample(REWARDS_STD, v.stdSum / v.groupsWithStd, e.getKey(), at));
                out.add(
                        sample(
                                REWARDS_FRAC_ZERO_STD,
                                (double) v.zeroStd / v.groupsWithStd,
                                e.getKey(),
                                at));
            }
        }
        if (latencyCount > 0) {
            out.add(sample(GROUPS_LATENCY_MS, (double) latencySum / latencyCount, null, at));
            out.add(sample(GROUPS_LATENCY_MS_MAX, latencyMax, null, at));
        }
        counters.clear();
        byVersion.clear();
        latencyCount = 0;
        latencySum = 0;
        latencyMax = 0;
        return out;
    }

    private Metric sample(String name, double value, Long policyVersion, Instant at) {
        Telemetry.global().mirror(runId, source, name, value, Map.of("task", task));
        return Metric.newBuilder()
                .setRunId(runId)
                .setSource(source)
                .setName(name)
                .setValue(value)
                .setStep(null)
                .setPolicyVersion(policyVersion)
                .setTags(Map.of("task", task))
                .setTimestamp(at)
                .build();
    }
}

package dev.diffustream.infra.dashboard;

import java.util.List;
import java.util.Map;

/**
 * What {@code GET /api/state} returns: a snapshot of the {@link RunModel}, serialised as JSON.
 * Every figure comes from the run's topics (or, for lag, from the broker's offsets); a figure not
 * seen yet is {@code null}. Times are epoch milliseconds.
 *
 * @param runId run followed
 * @param prefix topic prefix of the run
 * @param generatedAt when the snapshot was taken
 * @param startedAt when the dashboard started following
 * @param consumer the dashboard's own reading of the topics
 * @param policy newest checkpoint ({@code checkpoints})
 * @param learner newest learner step ({@code train-steps})
 * @param reward reward mean/std of the newest step ({@code train-steps})
 * @param eval held-out pass@1 ({@code metrics}, {@code eval/heldout_pass@1})
 * @param staleness staleness of the trained members ({@code train-steps} joined with {@code
 *     advantages})
 * @param lag consumer lag of the pipeline's groups (Admin: committed vs end offsets)
 * @param outcomes sandbox outcomes ({@code executions})
 * @param throughput records per second per stage over the last minute (record timestamps)
 * @param steps per-step series ({@code train-steps})
 * @param groups closed GRPO groups ({@code advantages})
 * @param deadLetters records given up on ({@code dead-letters})
 * @param metrics newest value of every metric per source ({@code metrics})
 */
public record DashboardState(
        String runId,
        String prefix,
        long generatedAt,
        long startedAt,
        Consumer consumer,
        Policy policy,
        Learner learner,
        Reward reward,
        Eval eval,
        Staleness staleness,
        Lag lag,
        Outcomes outcomes,
        List<Throughput> throughput,
        List<StepPoint> steps,
        Groups groups,
        DeadLetters deadLetters,
        List<MetricValue> metrics) {

    /**
     * The dashboard's own consumer.
     *
     * @param caughtUp whether every assigned partition was read up to its last stable offset at the
     *     last check
     * @param missingTopics run topics that do not exist (yet)
     * @param records records read per topic (base name)
     * @param undecodable records that could not be decoded, per topic
     * @param otherRuns records of other run ids (same prefix), per topic, not shown
     * @param error last error of the consumer, or null
     */
    public record Consumer(
            boolean caughtUp,
            List<String> missingTopics,
            Map<String, Long> records,
            Map<String, Long> undecodable,
            Map<String, Long> otherRuns,
            String error) {}

    /** The newest checkpoint (highest version) and how many were published. */
    public record Policy(
            Long version,
            Long step,
            String sha256,
            String kind,
            String uri,
            Long createdAt,
            long checkpoints) {}

    /** The newest TrainStep (highest step) and how many were read. */
    public record Learner(
            Long step,
            Long batch,
            Long policyVersionBefore,
            Long durationMs,
            Long tokens,
            Double learningRate,
            Long finishedAt,
            long trainSteps) {}

    /** Reward mean/std over the members of the newest step. */
    public record Reward(Double mean, Double std, Long step) {}

    /** Held-out pass@1: newest sample (by step) and the curve over steps. */
    public record Eval(
            String metric,
            Double latest,
            Long step,
            Long policyVersion,
            Long timestamp,
            List<EvalPoint> series) {}

    /** One evaluation sample. */
    public record EvalPoint(long step, double value, Long policyVersion) {}

    /**
     * Staleness histogram of trained members.
     *
     * @param source how it is derived (shown on the page)
     * @param buckets members per staleness value, ascending
     * @param trainedMembers members counted
     * @param droppedStale members dropped by the learner's staleness bound (GroupRef.droppedStale)
     * @param mean mean over the histogram
     * @param max largest staleness in the histogram
     * @param resolvedGroups step groups joined with their AdvantageGroup
     * @param pendingGroups step groups whose AdvantageGroup has not been read yet
     * @param unresolvedGroups step groups given up on (model bound exceeded)
     * @param lastStepMean the newest TrainStep's own stalenessMean
     * @param lastStepMax the newest TrainStep's own stalenessMax
     */
    public record Staleness(
            String source,
            List<Bucket> buckets,
            long trainedMembers,
            long droppedStale,
            Double mean,
            Long max,
            long resolvedGroups,
            long pendingGroups,
            long unresolvedGroups,
            Double lastStepMean,
            Long lastStepMax) {}

    /** Members with a given staleness. */
    public record Bucket(long staleness, long members) {}

    /** Lag of the watched groups, refreshed by an Admin client. */
    public record Lag(Long updatedAt, String error, List<LagRow> rows) {}

    /**
     * Lag of one group on one topic.
     *
     * @param label watched group label
     * @param groupId group id
     * @param topic topic base name
     * @param groupState broker's group state, or null if unknown
     * @param members group members, or -1 if unknown
     * @param partitions partitions of the topic
     * @param committedPartitions partitions with a committed offset
     * @param committed sum of committed offsets
     * @param end sum of end offsets (read_committed)
     * @param lag sum of max(0, end − committed-or-log-start)
     * @param state what the numbers mean (e.g. {@code no offsets committed})
     */
    public record LagRow(
            String label,
            String groupId,
            String topic,
            String groupState,
            int members,
            int partitions,
            int committedPartitions,
            long committed,
            long end,
            long lag,
            String state) {}

    /** Executions per outcome (every outcome symbol, in enum order). */
    public record Outcomes(long total, Map<String, Long> counts) {}

    /** Records per second of one stage over the last minute, by record timestamp. */
    public record Throughput(String topic, long lastMinute, double perSecond, long total) {}

    /** One learner step's figures. */
    public record StepPoint(
            long step,
            long policyVersionBefore,
            double loss,
            double policyLoss,
            double kl,
            double clipLow,
            double clipHigh,
            double gradNorm,
            double learningRate,
            double rewardMean,
            double rewardStd,
            double stalenessMean,
            long stalenessMax,
            long tokens,
            long durationMs) {}

    /** Closed groups by how they closed and whether they are trainable. */
    public record Groups(
            long total,
            long trainable,
            Map<String, Long> dropped,
            Map<String, Long> closeReasons,
            Double lastRewardMean,
            Double lastRewardStd) {}

    /** Dead letters: count, per service and source topic, and the newest. */
    public record DeadLetters(long total, Map<String, Long> bySource, DeadLetterView latest) {}

    /** The newest dead letter (no payload). */
    public record DeadLetterView(
            String service,
            String sourceTopic,
            int sourcePartition,
            long sourceOffset,
            String errorClass,
            String error,
            long timestamp) {}

    /** The newest sample of one metric from one source. */
    public record MetricValue(
            String source,
            String name,
            double value,
            Long step,
            Long policyVersion,
            long timestamp) {}
}

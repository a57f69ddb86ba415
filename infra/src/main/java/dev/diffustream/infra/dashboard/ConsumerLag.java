package dev.diffustream.infra.dashboard;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;

/**
 * Lag arithmetic, kept free of I/O so it can be tested without a broker: for one watched group and
 * one topic, the lag is the sum over the topic's partitions of {@code end − committed}, where
 * {@code end} is the last stable offset (read_committed end) and a partition without a committed
 * offset counts from its log start (the group would start there: {@code auto.offset.reset =
 * earliest}).
 *
 * <p>Offsets count transaction markers too: a group that has read everything may show a lag of one
 * per partition when the last thing on the partition is a commit marker its consumer has not
 * stepped over yet. Negative differences (a committed offset past the end, e.g. after the topic was
 * recreated) count as 0.
 */
public final class ConsumerLag {
    private ConsumerLag() {}

    /**
     * Lag of one group on one topic.
     *
     * @param label watched group label
     * @param groupId group id
     * @param topic base name of the topic (as shown)
     * @param fullTopic full name (prefix applied), as in the offset maps
     * @param groupState the group's state as the broker reports it (e.g. {@code Stable}, {@code
     *     Empty}, {@code Dead}), or {@code null} if unknown
     * @param members members of the group, or -1 if unknown
     * @param committed committed offsets of the group (any topics; others are ignored)
     * @param start log start offsets of the topic's partitions
     * @param end read_committed end offsets of the topic's partitions (defines the partitions)
     */
    public static DashboardState.LagRow row(
            String label,
            String groupId,
            String topic,
            String fullTopic,
            String groupState,
            int members,
            Map<TopicPartition, Long> committed,
            Map<TopicPartition, Long> start,
            Map<TopicPartition, Long> end) {
        int partitions = 0;
        int committedPartitions = 0;
        long committedSum = 0;
        long endSum = 0;
        long lag = 0;
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            TopicPartition tp = e.getKey();
            if (!tp.topic().equals(fullTopic)) {
                continue;
            }
            partitions++;
            long endOffset = e.getValue();
            Long c = committed.get(tp);
            long from;
            if (c != null) {
                committedPartitions++;
                committedSum += c;
                from = c;
            } else {
                from = Optional.ofNullable(start.get(tp)).orElse(0L);
            }
            endSum += endOffset;
            lag += Math.max(0, endOffset - from);
        }
        String state;
        if (partitions == 0) {
            state = "topic missing";
        } else if (committedPartitions == 0) {
            state = "no offsets committed";
        } else if (committedPartitions < partitions) {
            state = "committed on " + committedPartitions + "/" + partitions + " partitions";
        } else {
            state = "committed";
        }
        return new DashboardState.LagRow(
                label,
                groupId,
                topic,
                groupState,
                members,
                partitions,
                committedPartitions,
                committedSum,
                endSum,
                lag,
                state);
    }

    /** The rows of several groups, one per (group, topic), in the given order. */
    public static List<DashboardState.LagRow> rows(
            List<WatchedGroup> groups,
            String prefix,
            Map<String, Map<TopicPartition, Long>> committedByGroup,
            Map<String, String> stateByGroup,
            Map<String, Integer> membersByGroup,
            Map<TopicPartition, Long> start,
            Map<TopicPartition, Long> end) {
        List<DashboardState.LagRow> out = new ArrayList<>();
        for (WatchedGroup g : groups) {
            Map<TopicPartition, Long> committed =
                    committedByGroup.getOrDefault(g.groupId(), Map.of());
            for (String topic : g.topics()) {
                out.add(
                        row(
                                g.label(),
                                g.groupId(),
                                topic,
                                prefix + topic,
                                stateByGroup.get(g.groupId()),
                                membersByGroup.getOrDefault(g.groupId(), -1),
                                committed,
                                start,
                                end));
            }
        }
        return out;
    }
}

package dev.diffustream.infra.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class ConsumerLagTest {

    private static TopicPartition tp(String topic, int p) {
        return new TopicPartition(topic, p);
    }

    @Test
    void shouldSumEndMinusCommittedOverPartitionsWhenEveryPartitionIsCommitted() {
        // given committed 5 and 7 against ends 9 and 7
        Map<TopicPartition, Long> committed = Map.of(tp("p.tasks", 0), 5L, tp("p.tasks", 1), 7L);
        Map<TopicPartition, Long> end = Map.of(tp("p.tasks", 0), 9L, tp("p.tasks", 1), 7L);

        // when
        DashboardState.LagRow row =
                ConsumerLag.row(
                        "actors",
                        "actors-r",
                        "tasks",
                        "p.tasks",
                        "Stable",
                        2,
                        committed,
                        Map.of(),
                        end);

        // then
        assertThat(row.lag()).isEqualTo(4);
        assertThat(row.committed()).isEqualTo(12);
        assertThat(row.end()).isEqualTo(16);
        assertThat(row.partitions()).isEqualTo(2);
        assertThat(row.committedPartitions()).isEqualTo(2);
        assertThat(row.state()).isEqualTo("committed");
        assertThat(row.members()).isEqualTo(2);
    }

    @Test
    void shouldCountFromLogStartWhenAPartitionHasNoCommittedOffset() {
        // given partition 1 never committed, its log starting at 3 (retention) and ending at 10
        Map<TopicPartition, Long> committed = Map.of(tp("p.tasks", 0), 4L);
        Map<TopicPartition, Long> start = Map.of(tp("p.tasks", 0), 0L, tp("p.tasks", 1), 3L);
        Map<TopicPartition, Long> end = Map.of(tp("p.tasks", 0), 4L, tp("p.tasks", 1), 10L);

        // when
        DashboardState.LagRow row =
                ConsumerLag.row(
                        "actors", "actors-r", "tasks", "p.tasks", null, -1, committed, start, end);

        // then
        assertThat(row.lag()).isEqualTo(7);
        assertThat(row.state()).isEqualTo("committed on 1/2 partitions");
    }

    @Test
    void shouldNotCountNegativeLagWhenCommittedIsPastTheEnd() {
        // given a committed offset past the end (topic recreated) and a normal partition
        Map<TopicPartition, Long> committed = Map.of(tp("t", 0), 50L, tp("t", 1), 1L);
        Map<TopicPartition, Long> end = Map.of(tp("t", 0), 3L, tp("t", 1), 2L);

        // when / then
        assertThat(ConsumerLag.row("l", "g", "t", "t", null, 0, committed, Map.of(), end).lag())
                .isEqualTo(1);
    }

    @Test
    void shouldIgnoreOtherTopicsAndReportMissingTopicWhenItHasNoPartitions() {
        // given offsets of other topics only
        Map<TopicPartition, Long> committed = Map.of(tp("p.completions", 0), 2L);
        Map<TopicPartition, Long> end = Map.of(tp("p.completions", 0), 9L);

        // when
        DashboardState.LagRow row =
                ConsumerLag.row(
                        "sandboxes",
                        "s",
                        "executions",
                        "p.executions",
                        null,
                        0,
                        committed,
                        Map.of(),
                        end);

        // then
        assertThat(row.partitions()).isZero();
        assertThat(row.lag()).isZero();
        assertThat(row.state()).isEqualTo("topic missing");
    }

    @Test
    void shouldGiveOneRowPerGroupAndTopicInOrderWhenSeveralGroupsAreWatched() {
        // given a streams application on two topics and a learner on one; nothing committed by
        // the learner
        List<WatchedGroup> groups =
                List.of(
                        new WatchedGroup("streams", "app", List.of("completions", "executions")),
                        new WatchedGroup("learner", "learner-r", List.of("advantages")));
        Map<String, Map<TopicPartition, Long>> committed =
                Map.of("app", Map.of(tp("p.completions", 0), 6L, tp("p.executions", 0), 1L));
        Map<TopicPartition, Long> start = Map.of(tp("p.advantages", 0), 0L);
        Map<TopicPartition, Long> end =
                Map.of(
                        tp("p.completions", 0), 8L,
                        tp("p.executions", 0), 1L,
                        tp("p.advantages", 0), 5L);

        // when
        List<DashboardState.LagRow> rows =
                ConsumerLag.rows(
                        groups,
                        "p.",
                        committed,
                        Map.of("app", "Stable", "learner-r", "Dead"),
                        Map.of("app", 1),
                        start,
                        end);

        // then
        assertThat(rows)
                .extracting(r -> r.label() + "/" + r.topic() + "=" + r.lag())
                .containsExactly(
                        "streams/completions=2", "streams/executions=0", "learner/advantages=5");
        assertThat(rows.get(2).state()).isEqualTo("no offsets committed");
        assertThat(rows.get(2).groupState()).isEqualTo("Dead");
        assertThat(rows.get(2).members()).isEqualTo(-1);
    }

    @Test
    void shouldRejectAWatchedGroupWithoutTopicsOrWithABadLabel() {
        assertThatThrownBy(() -> new WatchedGroup("learner", "g", List.of()))
                .hasMessageContaining("learner")
                .hasMessageContaining("no topics");
        assertThatThrownBy(() -> new WatchedGroup("a b", "g", List.of("tasks")))
                .hasMessageContaining("'a b'");
    }
}

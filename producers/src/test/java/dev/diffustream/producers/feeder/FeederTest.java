package dev.diffustream.producers.feeder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuite;
import dev.diffustream.schemas.avro.Split;
import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RunConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.consumer.internals.AbstractPartitionAssignor;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The Kafka-free parts of the feeder: the seeded order of each epoch, the split name, and the Task
 * event of one sequence. The run loop itself (resume from the highest committed sequence, pacing on
 * {@link LearnerProgress}) reads and writes Kafka and is covered by the integration tests; what it
 * relies on here is that the task at sequence s is a pure function of (root seed, s): {@code
 * order(tasks, seed, s / n).get(s % n)}.
 */
class FeederTest {

    private static final List<CodeTask> TASKS = tasks(40);

    @Test
    void shouldPublishEveryTaskOncePerEpochWhenOrdered() {
        // given 40 tasks and a root seed
        // when ordering three epochs
        for (int epoch = 0; epoch < 3; epoch++) {
            List<CodeTask> order = Feeder.order(TASKS, 42L, epoch);
            // then each epoch is a permutation of the split
            assertThat(order).hasSize(TASKS.size()).containsExactlyInAnyOrderElementsOf(TASKS);
        }
        // and the input list is left as it was
        assertThat(TASKS).isEqualTo(tasks(40));
    }

    @Test
    void shouldDrawEveryEpochFromFirstTasksWhenPoolSizeSet() {
        // given a pool of the first 8 of 40 tasks
        List<CodeTask> pool = Feeder.pool(TASKS, 8);

        // then it is the split's first 8 in the suite's order
        assertThat(ids(pool)).isEqualTo(ids(TASKS.subList(0, 8)));
        // and each epoch is a permutation of the pool, so every pooled task recurs every epoch
        for (int epoch = 0; epoch < 3; epoch++) {
            assertThat(Feeder.order(pool, 42L, epoch))
                    .hasSize(8)
                    .containsExactlyInAnyOrderElementsOf(pool);
        }
        // and 0 or a pool larger than the split means the whole split
        assertThat(Feeder.pool(TASKS, 0)).isEqualTo(TASKS);
        assertThat(Feeder.pool(TASKS, 400)).isEqualTo(TASKS);
    }

    @Test
    void shouldGiveSameOrderWhenSameSeedAndEpoch() {
        // given two independent computations of the same epoch (e.g. before and after a restart)
        List<String> first = ids(Feeder.order(tasks(40), 7L, 3));
        List<String> second = ids(Feeder.order(tasks(40), 7L, 3));

        // then they agree exactly, and the order is actually shuffled
        assertThat(second).isEqualTo(first);
        assertThat(first).isNotEqualTo(ids(TASKS));
    }

    @Test
    void shouldShuffleDifferentlyWhenSeedOrEpochDiffers() {
        // given one seed's epoch 0
        List<String> base = ids(Feeder.order(TASKS, 7L, 0));

        // then another epoch and other seeds each give another order (40! orders: a collision
        // means the seed or the epoch is not used)
        assertThat(ids(Feeder.order(TASKS, 7L, 1))).isNotEqualTo(base);
        Set<List<String>> orders = new HashSet<>();
        for (long seed = 0; seed < 8; seed++) {
            orders.add(ids(Feeder.order(TASKS, seed, 0)));
        }
        assertThat(orders).hasSize(8);
    }

    @Test
    void shouldContinueSameSequenceWhenResumedMidEpoch() {
        // given the sequence a feeder publishes in one go over 3 epochs
        int n = TASKS.size();
        List<String> straight = new ArrayList<>();
        for (int epoch = 0; epoch < 3; epoch++) {
            straight.addAll(ids(Feeder.order(TASKS, 99L, epoch)));
        }

        // when a fresh feeder resumes at sequence 57 (epoch 1, position 17), as run() does
        List<String> resumed = new ArrayList<>();
        for (long seq = 57; seq < 3L * n; seq++) {
            int epoch = (int) (seq / n);
            resumed.add(Feeder.order(tasks(40), 99L, epoch).get((int) (seq % n)).id());
        }

        // then it publishes exactly the tail of the uninterrupted sequence
        assertThat(resumed).isEqualTo(straight.subList(57, straight.size()));
    }

    @Test
    void shouldParseSplitNamesWhenCaseOrSpacingDiffers() {
        assertThat(Feeder.split("train")).isEqualTo(TaskSplit.TRAIN);
        assertThat(Feeder.split(" HeldOut ")).isEqualTo(TaskSplit.HELDOUT);
        assertThat(Feeder.split("TEST")).isEqualTo(TaskSplit.TEST);
    }

    @Test
    void shouldNameKeyAndValueWhenSplitUnknown() {
        assertThatThrownBy(() -> Feeder.split("validation"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("feeder.split")
                .hasMessageContaining("'validation'");
    }

    @Test
    void shouldPutAnyRoundOfConsecutiveTasksOnePerPartition() {
        // when rounds of 4 consecutive sequences are partitioned, at any offset (a resumed feeder,
        // or a round that does not start at a multiple of 4)
        for (long start = 0; start < 12; start++) {
            Set<Integer> seen = new HashSet<>();
            for (long seq = start; seq < start + 4; seq++) {
                seen.add(Feeder.partitionOf(seq, 4));
            }
            // then the round uses every one of the 4 partitions once
            assertThat(seen).as("round at %d", start).containsExactlyInAnyOrder(0, 1, 2, 3);
        }
        // and the layout is a function of the sequence alone, the same after a restart
        assertThat(Feeder.partitionOf(1_000_003L, 4)).isEqualTo(3);
        assertThat(Feeder.partitionOf(7L, 1)).isZero();
        assertThatThrownBy(() -> Feeder.partitionOf(7L, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got 0");
    }

    @Test
    void shouldGiveEveryActorAnEqualShareOfEachRoundWhenActorsTakePartitionsRoundRobin() {
        // given 2 actors with the assignor they use, on 4 (local mode) or 8 partitions
        for (int partitions : new int[] {4, 8}) {
            Map<String, List<TopicPartition>> rr = assign(new RoundRobinAssignor(), partitions, 2);
            // then any 4 consecutive tasks, a synchronous round, reach each actor twice
            for (long start = 0; start < 16; start++) {
                assertThat(perActor(rr, start, 4, partitions))
                        .as("%d partitions, round at %d", partitions, start)
                        .containsExactly(2, 2);
            }
        }
        // whereas Kafka's default range assignor gives actor 0 partitions 0-3 of 8, so the round
        // of tasks 0-3 would all go to it
        Map<String, List<TopicPartition>> range = assign(new RangeAssignor(), 8, 2);
        assertThat(perActor(range, 0, 4, 8)).containsExactly(4, 0);
    }

    private static Map<String, List<TopicPartition>> assign(
            AbstractPartitionAssignor assignor, int partitions, int actors) {
        Map<String, ConsumerPartitionAssignor.Subscription> members = new TreeMap<>();
        for (int a = 0; a < actors; a++) {
            members.put("actor-" + a, new ConsumerPartitionAssignor.Subscription(List.of("tasks")));
        }
        return assignor.assign(Map.of("tasks", partitions), members);
    }

    /** How many of the {@code n} tasks from sequence {@code start} each actor receives. */
    private static int[] perActor(
            Map<String, List<TopicPartition>> assignment, long start, int n, int partitions) {
        int[] counts = new int[assignment.size()];
        for (long seq = start; seq < start + n; seq++) {
            int p = Feeder.partitionOf(seq, partitions);
            for (int a = 0; a < counts.length; a++) {
                if (assignment.get("actor-" + a).contains(new TopicPartition("tasks", p))) {
                    counts[a]++;
                }
            }
        }
        return counts;
    }

    @Test
    void shouldMapEverySplitToItsEventSymbol() {
        for (TaskSplit s : TaskSplit.values()) {
            assertThat(Feeder.toSplit(s).name()).isEqualTo(s.name());
        }
        assertThat(Feeder.toSplit(TaskSplit.HELDOUT)).isEqualTo(Split.HELDOUT);
    }

    @Test
    void shouldCarryTaskEpochSequenceAndDerivedSeedWhenEventBuilt() {
        // given a feeder (no client is created before run()) and a task without entry point/setup
        Feeder feeder = feeder(new RunConfig("run-a", 5L, "runs"));
        CodeTask t =
                new CodeTask(
                        "s/train/1",
                        "Write f.",
                        List.of("assert f() == 1"),
                        null,
                        null,
                        null,
                        "s",
                        TaskSplit.TRAIN,
                        "fam");

        // when the event of sequence 41 (epoch 1) is built
        Task e = feeder.toEvent(t, 1, 41);

        // then it carries the task and its position
        assertThat(e.getRunId()).isEqualTo("run-a");
        assertThat(e.getTaskId()).isEqualTo("s/train/1");
        assertThat(e.getPrompt()).isEqualTo("Write f.");
        assertThat(e.getTests()).containsExactly("assert f() == 1");
        assertThat(e.getEntryPoint()).isNull();
        assertThat(e.getSetupCode()).isNull();
        assertThat(e.getSource()).isEqualTo("s");
        assertThat(e.getSplit()).isEqualTo(Split.TRAIN);
        assertThat(e.getEpoch()).isEqualTo(1);
        assertThat(e.getSequence()).isEqualTo(41L);
        // and its seed depends on the run's seed and the sequence only: the same round after a
        // restart gets the same seed, other rounds and other runs other seeds
        assertThat(e.getSeed()).isNotNegative();
        assertThat(feeder(new RunConfig("run-b", 5L, "x")).toEvent(t, 1, 41).getSeed())
                .isEqualTo(e.getSeed());
        assertThat(feeder.toEvent(t, 1, 42).getSeed()).isNotEqualTo(e.getSeed());
        assertThat(feeder(new RunConfig("run-a", 6L, "runs")).toEvent(t, 1, 41).getSeed())
                .isNotEqualTo(e.getSeed());
    }

    private static Feeder feeder(RunConfig run) {
        TaskSuite suite =
                new TaskSuite() {
                    @Override
                    public String name() {
                        return "s";
                    }

                    @Override
                    public List<CodeTask> load(TaskSplit split) {
                        return TASKS;
                    }
                };
        // Topics are only used by run(); the event builder needs the run and nothing else
        return new Feeder(KafkaConfig.defaults(), run, FeederConfig.defaults(), null, suite);
    }

    private static List<CodeTask> tasks(int n) {
        List<CodeTask> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(
                    new CodeTask(
                            "s/train/" + i,
                            "prompt " + i,
                            List.of("assert True"),
                            "f",
                            null,
                            null,
                            "s",
                            TaskSplit.TRAIN,
                            ""));
        }
        return out;
    }

    private static List<String> ids(List<CodeTask> tasks) {
        return tasks.stream().map(CodeTask::id).toList();
    }
}

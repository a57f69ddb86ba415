package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.GroupClose;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.schemas.registry.InMemorySchemaRegistry;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * A task restarted after an outage longer than the deadline must not close its restored groups at
 * once: their missing records may be waiting in the input. The restored state is written into the
 * stores directly, as a restore from the changelog would leave it.
 */
class GroupProcessorRestartTest {

    private static final long T0 = 1_767_225_600_000L;
    private static final long DEADLINE = 10_000L;

    private static <V> KeyValueStore<String, V> store(
            MockProcessorContext<String, SpecificRecord> ctx, String name, Serde<V> serde) {
        KeyValueStore<String, V> store =
                Stores.keyValueStoreBuilder(
                                Stores.inMemoryKeyValueStore(name), Serdes.String(), serde)
                        .withLoggingDisabled()
                        .build();
        store.init(ctx.getStateStoreContext(), store);
        ctx.addStateStore(store);
        return store;
    }

    @Test
    void shouldGiveRestoredGroupsAFullDeadlineAfterRestart() {
        // given the stores of a task whose group g opened at T0 (deadline T0 + 10 s) with two
        // scored members out of three
        Topics topics = new Topics("", new InMemorySchemaRegistry());
        AdvantageConfig cfg =
                AdvantageConfig.defaults().toBuilder()
                        .groupDeadlineMs(DEADLINE)
                        .storeType(AdvantageConfig.StoreType.IN_MEMORY)
                        .build();
        MockProcessorContext<String, SpecificRecord> ctx = new MockProcessorContext<>();
        KeyValueStore<String, GroupState> groups =
                store(ctx, AdvantageTopology.GROUPS_STORE, new GroupStateSerde());
        KeyValueStore<String, AdvantageMember> members =
                store(ctx, AdvantageTopology.MEMBERS_STORE, new MemberPayloadSerde());
        KeyValueStore<String, String> timers =
                store(ctx, AdvantageTopology.TIMERS_STORE, Serdes.String());
        GroupState g = GroupState.open("run-1", "task", 3, T0, T0 + DEADLINE);
        for (int m = 0; m < 2; m++) {
            String id = "g/" + m;
            g.slotFor(id).completionArrived(m, 3L, true);
            g.slotFor(id).executionArrived(Outcome.PASSED, 1.0, m, 1);
            members.put(
                    id,
                    AdvantageMember.newBuilder()
                            .setCompletionId(id)
                            .setMemberIndex(m)
                            .setPromptTokenIds(List.of(1))
                            .setTokenIds(List.of(2))
                            .setPolicyVersion(3L)
                            .setMaskSeeds(List.of(7L))
                            .setBehaviourLogProbs(List.of(List.of(-1f)))
                            .setOutcome(Outcome.UNKNOWN)
                            .setFormatReward(0)
                            .setCodeReward(0)
                            .setReward(0)
                            .setAdvantage(0)
                            .build());
        }
        groups.put("g", g);
        timers.put(Timers.key(Timers.DEADLINE, T0 + DEADLINE, "g"), "g");

        // when the task restarts an hour later
        long restart = T0 + 3_600_000L;
        ctx.setCurrentSystemTimeMs(restart);
        GroupProcessor processor =
                new GroupProcessor(
                        cfg, RewardWeights.defaults(), topics.completions(), topics.executions());
        processor.init(ctx);
        MockProcessorContext.CapturedPunctuator deadlines =
                ctx.scheduledPunctuators().stream()
                        .filter(p -> p.getType() == PunctuationType.WALL_CLOCK_TIME)
                        .filter(p -> p.getInterval().toMillis() == cfg.punctuateIntervalMs())
                        .findFirst()
                        .orElseThrow();

        // then the overdue group stays open while the restarted task may still catch up
        deadlines.getPunctuator().punctuate(restart + DEADLINE - 1);
        assertThat(ctx.forwarded()).isEmpty();
        assertThat(groups.get("g").isClosed()).isFalse();

        // and closes at the deadline once a full deadline has passed since the restart
        ctx.setCurrentSystemTimeMs(restart + DEADLINE);
        deadlines.getPunctuator().punctuate(restart + DEADLINE);
        assertThat(ctx.forwarded(AdvantageTopology.ADVANTAGES_SINK)).hasSize(1);
        AdvantageGroup out =
                (AdvantageGroup)
                        ctx.forwarded(AdvantageTopology.ADVANTAGES_SINK).get(0).record().value();
        assertThat(out.getCloseReason()).isEqualTo(GroupClose.DEADLINE);
        assertThat(out.getFirstSeenAt().toEpochMilli()).isEqualTo(T0);
        // rewards 2·0 + 0.5·1 = 0.5 and 2·1 + 0.5 = 2.5 → LOO ±2.0
        assertThat(out.getMembers())
                .extracting(AdvantageMember::getAdvantage)
                .containsExactly(-2.0, 2.0);
        assertThat(groups.get("g").isClosed()).isTrue();
        assertThat(members.get("g/0")).isNull();
    }
}

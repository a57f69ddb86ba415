package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.schemas.avro.Outcome;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class GroupStateSerdeTest {

    private final GroupStateSerde serde = new GroupStateSerde();

    @Test
    void shouldRoundTripAnOpenGroupWithEverySlotKind() {
        // given a group with a pending completion, a scored member and an excluded one
        GroupState s = GroupState.open("run-1", "task-7", 4, 1_000L, 121_000L);
        s.slotFor("g/0").completionArrived(0, 3L, true);
        GroupState.Slot scored = s.slotFor("g/1");
        scored.completionArrived(1, 4L, true);
        scored.executionArrived(Outcome.PARTIAL, 1.0, 0.5, 2);
        s.slotFor("g/2").executionArrived(Outcome.SANDBOX_ERROR, 0, 0, 1);

        // when
        GroupState back = serde.deserialize("t", serde.serialize("t", s));

        // then
        assertThat(back.isClosed()).isFalse();
        assertThat(back.runId()).isEqualTo("run-1");
        assertThat(back.taskId()).isEqualTo("task-7");
        assertThat(back.groupSize()).isEqualTo(4);
        assertThat(back.firstSeenMs()).isEqualTo(1_000L);
        assertThat(back.deadlineMs()).isEqualTo(121_000L);
        assertThat(back.slots())
                .extracting(GroupState.Slot::completionId)
                .containsExactly("g/0", "g/1", "g/2");
        GroupState.Slot s1 = back.slot("g/1");
        assertThat(s1.scored()).isTrue();
        assertThat(s1.policyVersion()).isEqualTo(4L);
        assertThat(s1.outcome()).isEqualTo(Outcome.PARTIAL);
        assertThat(s1.formatReward()).isEqualTo(1.0);
        assertThat(s1.codeReward()).isEqualTo(0.5);
        assertThat(s1.attempt()).isEqualTo(2);
        assertThat(back.slot("g/0").hasCompletion()).isTrue();
        assertThat(back.slot("g/0").hasExecution()).isFalse();
        assertThat(back.slot("g/2").excluded()).isTrue();
        assertThat(back.slot("g/2").hasCompletion()).isFalse();
        assertThat(back.resolved()).isEqualTo(2);
    }

    @Test
    void shouldRoundTripAClosedMarker() {
        GroupState back = serde.deserialize("t", serde.serialize("t", GroupState.closed(42L)));
        assertThat(back.isClosed()).isTrue();
        assertThat(back.closedAtMs()).isEqualTo(42L);
    }

    @Test
    void shouldRejectUnknownVersionAndTruncatedBytesWithTheTopicName() {
        byte[] bytes = serde.serialize("t", GroupState.open("r", "k", 2, 1, 2));
        byte[] wrongVersion = bytes.clone();
        wrongVersion[0] = 9;
        assertThatThrownBy(() -> serde.deserialize("changelog-x", wrongVersion))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("changelog-x")
                .hasMessageContaining("version 9");
        assertThatThrownBy(
                        () ->
                                serde.deserialize(
                                        "changelog-x", Arrays.copyOf(bytes, bytes.length - 3)))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("changelog-x");
    }
}

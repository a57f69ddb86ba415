package dev.diffustream.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Outcome;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class MemberPayloadSerdeTest {

    private final MemberPayloadSerde serde = new MemberPayloadSerde();

    private static AdvantageMember member() {
        return AdvantageMember.newBuilder()
                .setCompletionId("gröup/7")
                .setMemberIndex(7)
                .setPromptTokenIds(List.of(0, 1, 151_643, Integer.MAX_VALUE))
                .setTokenIds(List.of(-1, 42, 151_645))
                .setPolicyVersion(1L << 40)
                .setMaskSeeds(List.of(0L, -5L, Long.MAX_VALUE))
                .setBehaviourLogProbs(
                        List.of(
                                List.of(-0.0f, -1.5f, Float.NEGATIVE_INFINITY),
                                List.of(-3.25f, Float.MIN_VALUE, -88.7f)))
                .setOutcome(Outcome.UNKNOWN)
                .setFormatReward(0)
                .setCodeReward(0)
                .setReward(0)
                .setAdvantage(0)
                .setSourcePartition(3)
                .setSourceOffset(123_456_789_012L)
                .build();
    }

    @Test
    void shouldRoundTripEveryPayloadFieldExactly() {
        // given a member with extreme values in every field
        AdvantageMember m = member();

        // when
        AdvantageMember back = serde.deserialize("t", serde.serialize("t", m));

        // then it is equal field by field (floats bit for bit)
        assertThat(back).isEqualTo(m);
    }

    @Test
    void shouldRejectUnknownVersionAndCorruptBytesWithTheTopicName() {
        byte[] bytes = serde.serialize("t", member());
        byte[] wrongVersion = bytes.clone();
        wrongVersion[0] = 2;
        assertThatThrownBy(() -> serde.deserialize("members-changelog", wrongVersion))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("members-changelog")
                .hasMessageContaining("version 2");
        assertThatThrownBy(
                        () ->
                                serde.deserialize(
                                        "members-changelog",
                                        Arrays.copyOf(bytes, bytes.length - 5)))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("members-changelog");
    }
}

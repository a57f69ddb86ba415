package dev.diffustream.learner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Outcome;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The learner's pure helpers (its Kafka loop is covered by the integration tests). */
class LearnerTest {

    @Test
    void shouldConvertAdvantageMemberToTrainerMemberWhenTaken() {
        // given a scored member with I = 2 mask seeds and behaviour rows of K = 3
        AdvantageMember m =
                AdvantageMember.newBuilder()
                        .setCompletionId("g/1")
                        .setMemberIndex(1)
                        .setPromptTokenIds(List.of(11, 12, 13, 14))
                        .setTokenIds(List.of(21, 22, 23))
                        .setPolicyVersion(7)
                        .setMaskSeeds(List.of(5L, 9L))
                        .setBehaviourLogProbs(
                                List.of(List.of(-1.0f, -2.0f, -3.0f), List.of(-0.5f, -0.25f, -4f)))
                        .setOutcome(Outcome.PASSED)
                        .setFormatReward(1.0)
                        .setCodeReward(1.0)
                        .setReward(2.5)
                        .setAdvantage(0.75)
                        .setSourcePartition(0)
                        .setSourceOffset(3)
                        .build();

        // when converted for the trainer
        GrpoTrainer.Member t = Learner.member(m);

        // then every field the update reads is carried over, row for row
        assertThat(t.completionId()).isEqualTo("g/1");
        assertThat(t.prompt()).containsExactly(11, 12, 13, 14);
        assertThat(t.completion()).containsExactly(21, 22, 23);
        assertThat(t.maskSeeds()).containsExactly(5L, 9L);
        assertThat(t.behaviourLogProbs()[0]).containsExactly(-1.0f, -2.0f, -3.0f);
        assertThat(t.behaviourLogProbs()[1]).containsExactly(-0.5f, -0.25f, -4f);
        assertThat(t.advantage()).isEqualTo(0.75);
        assertThat(t.policyVersion()).isEqualTo(7);
    }

    @Test
    void shouldNameCheckpointsSortablyWhenVersionsGrow() {
        List<String> names = new ArrayList<>();
        for (long v : new long[] {0, 1, 9, 10, 100, 999_999}) {
            names.add(Learner.checkpointName(v));
        }
        assertThat(names).isSorted().doesNotHaveDuplicates();
        assertThat(Learner.checkpointName(12)).isEqualTo("v000012");
        assertThat(Learner.consumerGroup("a")).isNotEqualTo(Learner.consumerGroup("b"));
    }
}

package dev.diffustream.learner.replay;

import static dev.diffustream.learner.replay.ReplayFixtures.group;
import static dev.diffustream.learner.replay.ReplayFixtures.ref;
import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.learner.GrpoTrainer;
import dev.diffustream.schemas.avro.AdvantageGroup;
import org.junit.jupiter.api.Test;

class MemberSelectionTest {

    private final AdvantageGroup g =
            group("g-1", 1, new long[] {5, 3, 2, 4}, new double[] {1.0, -1.0, 0.5, -0.5});

    @Test
    void shouldKeepMembersUpToTheStalenessBoundInGroupOrder() {
        // when: the learner is at version 5 with maxStaleness 2 (versions 3..5 stay)
        MemberSelection.Selection s = MemberSelection.select(g, 5, 2);

        // then: the version-2 member (staleness 3) is dropped, the others keep their order
        assertThat(s.droppedStale()).isEqualTo(1);
        assertThat(s.kept())
                .extracting(GrpoTrainer.Member::completionId)
                .containsExactly("g-1/0", "g-1/1", "g-1/3");
        assertThat(s.kept().get(2).advantage()).isEqualTo(-0.5);
        assertThat(s.kept().get(0).behaviourLogProbs()[1][3])
                .isEqualTo(g.getMembers().get(0).getBehaviourLogProbs().get(1).get(3));
        assertThat(s.kept().get(1).maskSeeds())
                .containsExactly(
                        g.getMembers().get(1).getMaskSeeds().get(0),
                        g.getMembers().get(1).getMaskSeeds().get(1));
    }

    @Test
    void shouldKeepEveryMemberWhenNoneIsOlderThanTheBound() {
        // when: members sampled by a newer policy than the learner's (an actor ahead of a restart)
        MemberSelection.Selection s = MemberSelection.select(g, 1, 0);

        // then: negative staleness is never dropped
        assertThat(s.kept()).hasSize(4);
        assertThat(s.droppedStale()).isZero();
    }

    @Test
    void shouldAgreeWithTheRecordWhenCountsMatch() {
        MemberSelection.Selection s = MemberSelection.select(g, 5, 2);
        assertThat(MemberSelection.mismatch(ref("g-1", 0, 7, 3, 1), s)).isEmpty();
    }

    @Test
    void shouldDescribeTheDisagreementWhenCountsDiffer() {
        // given: the learner recorded all four members as trained
        MemberSelection.Selection s = MemberSelection.select(g, 5, 2);

        // then: the message names the group, its coordinates and both counts
        assertThat(MemberSelection.mismatch(ref("g-1", 1, 7, 4, 0), s))
                .hasValueSatisfying(
                        m ->
                                assertThat(m)
                                        .contains("g-1", "1@7", "keeps 3", "drops 1")
                                        .contains("recorded 4 kept and 0 dropped"));
    }

    @Test
    void shouldFlagARecordedGroupWithoutMembers() {
        MemberSelection.Selection s = MemberSelection.select(g, 100, 0);
        assertThat(s.kept()).isEmpty();
        assertThat(MemberSelection.mismatch(ref("g-1", 0, 7, 0, 4), s))
                .hasValueSatisfying(m -> assertThat(m).contains("no member"));
    }
}

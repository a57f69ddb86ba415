package dev.diffustream.learner.replay;

import dev.diffustream.learner.GrpoTrainer;
import dev.diffustream.learner.Learner;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.GroupRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The learner's member selection, for replay: a member sampled by policy version {@code v} is
 * trained on by a learner at version {@code V} unless {@code V - v > learner.maxStaleness}, in
 * which case it is dropped (counted in {@code GroupRef.droppedStale}). Members keep the order of
 * the AdvantageGroup (by member index), as in {@link Learner}'s batch loop; conversion to {@link
 * GrpoTrainer.Member} is {@link Learner#member}.
 *
 * <p>The rule is re-applied from the record (the version a step started from is its TrainStep's
 * {@code policyVersionBefore}) and checked against the counts the learner recorded in each {@link
 * GroupRef}; a disagreement is reported as a divergence of membership, before any weights are
 * compared.
 */
public final class MemberSelection {

    private MemberSelection() {}

    /**
     * The members of one group that a learner at {@code version} trains on.
     *
     * @param kept members to train on, in group order
     * @param droppedStale members dropped for staleness
     */
    public record Selection(List<GrpoTrainer.Member> kept, int droppedStale) {
        public Selection {
            kept = List.copyOf(kept);
        }
    }

    /** Applies the staleness bound to {@code group} at learner version {@code version}. */
    public static Selection select(AdvantageGroup group, long version, int maxStaleness) {
        List<GrpoTrainer.Member> kept = new ArrayList<>();
        int stale = 0;
        for (AdvantageMember m : group.getMembers()) {
            if (version - m.getPolicyVersion() > maxStaleness) {
                stale++;
            } else {
                kept.add(Learner.member(m));
            }
        }
        return new Selection(kept, stale);
    }

    /**
     * Why {@code selection} is not the membership the learner recorded in {@code ref}, or empty
     * when the counts agree (and at least one member is kept: a recorded trained group never has
     * none).
     */
    public static Optional<String> mismatch(GroupRef ref, Selection selection) {
        int kept = selection.kept().size();
        if (kept == ref.getMembers() && selection.droppedStale() == ref.getDroppedStale()) {
            return kept == 0
                    ? Optional.of(
                            "group " + ref.getGroupId() + " is recorded as trained with no member")
                    : Optional.empty();
        }
        return Optional.of(
                "group "
                        + ref.getGroupId()
                        + " (advantages "
                        + ref.getPartition()
                        + "@"
                        + ref.getOffset()
                        + "): replay keeps "
                        + kept
                        + " members and drops "
                        + selection.droppedStale()
                        + " as stale, the learner recorded "
                        + ref.getMembers()
                        + " kept and "
                        + ref.getDroppedStale()
                        + " dropped");
    }
}

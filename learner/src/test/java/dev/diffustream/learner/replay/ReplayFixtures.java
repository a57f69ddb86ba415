package dev.diffustream.learner.replay;

import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.CheckpointKind;
import dev.diffustream.schemas.avro.GroupClose;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.avro.TrainStep;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Hand-built events of a small run for the replay unit tests. */
final class ReplayFixtures {

    static final String RUN = "run-r";
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private ReplayFixtures() {}

    /**
     * A group of {@code versions.length} members; member i was sampled by policy {@code
     * versions[i]} and has advantage {@code advantages[i]}. Token ids avoid the special tokens of
     * the char tokenizer (ids 0..5): completions of K = 8 characters, prompts of 12.
     */
    static AdvantageGroup group(String groupId, long seed, long[] versions, double[] advantages) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<AdvantageMember> members = new ArrayList<>();
        for (int m = 0; m < versions.length; m++) {
            List<Integer> prompt = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                prompt.add(10 + rnd.nextInt(80));
            }
            List<Integer> tokens = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                tokens.add(10 + rnd.nextInt(80));
            }
            List<Long> seeds = List.of(rnd.nextLong(), rnd.nextLong());
            List<List<Float>> logps = new ArrayList<>();
            for (int j = 0; j < 2; j++) {
                List<Float> row = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    row.add((float) -(4.0 + rnd.nextDouble()));
                }
                logps.add(row);
            }
            members.add(
                    AdvantageMember.newBuilder()
                            .setCompletionId(groupId + "/" + m)
                            .setMemberIndex(m)
                            .setPromptTokenIds(prompt)
                            .setTokenIds(tokens)
                            .setPolicyVersion(versions[m])
                            .setMaskSeeds(seeds)
                            .setBehaviourLogProbs(logps)
                            .setOutcome(advantages[m] > 0 ? Outcome.PASSED : Outcome.FAILED)
                            .setFormatReward(1.0)
                            .setCodeReward(advantages[m] > 0 ? 1.0 : 0.0)
                            .setReward(advantages[m] > 0 ? 2.5 : 0.5)
                            .setAdvantage(advantages[m])
                            .setSourcePartition(0)
                            .setSourceOffset(m)
                            .build());
        }
        return AdvantageGroup.newBuilder()
                .setRunId(RUN)
                .setGroupId(groupId)
                .setTaskId("builtin/train/00001")
                .setGroupSize(versions.length)
                .setMembers(members)
                .setCloseReason(GroupClose.COMPLETE)
                .setExcludedMembers(0)
                .setRewardMean(1.5)
                .setRewardStd(1.0)
                .setZeroVariance(false)
                .setBaseline("leave_one_out")
                .setScaled(false)
                .setFirstSeenAt(T0)
                .setClosedAt(T0)
                .build();
    }

    /** A copy of {@code g} with member {@code m}'s advantage replaced. */
    static AdvantageGroup withAdvantage(AdvantageGroup g, int m, double advantage) {
        AdvantageGroup copy = AdvantageGroup.newBuilder(g).build();
        List<AdvantageMember> members = new ArrayList<>(copy.getMembers());
        members.set(m, AdvantageMember.newBuilder(members.get(m)).setAdvantage(advantage).build());
        copy.setMembers(members);
        return copy;
    }

    static GroupRef ref(String groupId, int partition, long offset, int members, int stale) {
        return GroupRef.newBuilder()
                .setGroupId(groupId)
                .setPartition(partition)
                .setOffset(offset)
                .setMembers(members)
                .setDroppedStale(stale)
                .build();
    }

    /** A TrainStep with neutral statistics. */
    static TrainStep step(long step, long batch, int iteration, long version, List<GroupRef> refs) {
        return TrainStep.newBuilder()
                .setRunId(RUN)
                .setStep(step)
                .setBatch(batch)
                .setIteration(iteration)
                .setMaskSeedIndex(iteration)
                .setPolicyVersionBefore(version)
                .setGroups(refs)
                .setSkippedGroups(List.of())
                .setLoss(0)
                .setPolicyLoss(0)
                .setKl(0)
                .setClipFractionLow(0)
                .setClipFractionHigh(0)
                .setGradNorm(0)
                .setLearningRate(0)
                .setTokens(0)
                .setStalenessMean(0)
                .setStalenessMax(0)
                .setRewardMean(0)
                .setRewardStd(0)
                .setDurationMs(100)
                .setCheckpointVersion(null)
                .setCheckpointSha256(null)
                .setFinishedAt(T0)
                .build();
    }

    static Checkpoint checkpoint(long version, long step, String sha, String uri) {
        return Checkpoint.newBuilder()
                .setRunId(RUN)
                .setVersion(version)
                .setUri(uri)
                .setSha256(sha)
                .setStep(step)
                .setParentVersion(version == 0 ? null : version - 1)
                .setParentSha256(null)
                .setConfigHash("00".repeat(32))
                .setKind(version == 0 ? CheckpointKind.INITIAL : CheckpointKind.TRAINED)
                .setCreatedAt(T0)
                .build();
    }
}

package dev.diffustream.infra.dashboard;

import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.GroupClose;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.avro.TrainStep;
import dev.diffustream.schemas.testing.Samples;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Sample events with chosen figures, built on {@link Samples}. */
final class Events {
    private Events() {}

    static final String RUN = "run-1";

    /** A closed group whose members were sampled by the given policy versions. */
    static AdvantageGroup group(String groupId, String dropReason, long... memberVersions) {
        AdvantageGroup base = Samples.advantageGroup(groupId, memberVersions.length);
        List<AdvantageMember> members = new ArrayList<>();
        for (int i = 0; i < memberVersions.length; i++) {
            members.add(
                    AdvantageMember.newBuilder(base.getMembers().get(i))
                            .setPolicyVersion(memberVersions[i])
                            .build());
        }
        return AdvantageGroup.newBuilder(base)
                .setMembers(members)
                .setDropReason(dropReason)
                .setZeroVariance("zero_variance".equals(dropReason))
                .setCloseReason(
                        memberVersions.length < 4 ? GroupClose.DEADLINE : GroupClose.COMPLETE)
                .build();
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

    /** A step with figures derived from its number, so every step's values differ. */
    static TrainStep step(
            long step,
            long batch,
            int iteration,
            long versionBefore,
            List<GroupRef> groups,
            List<GroupRef> skipped) {
        return TrainStep.newBuilder(Samples.trainStep(step))
                .setRunId(RUN)
                .setBatch(batch)
                .setIteration(iteration)
                .setMaskSeedIndex(iteration)
                .setPolicyVersionBefore(versionBefore)
                .setGroups(groups)
                .setSkippedGroups(skipped)
                .setLoss(1.0 / step)
                .setPolicyLoss(0.5 / step)
                .setKl(0.01 * step)
                .setClipFractionLow(0.001 * step)
                .setClipFractionHigh(0.002 * step)
                .setGradNorm(0.5 + 0.25 * step)
                .setRewardMean(1.0 + 0.25 * step)
                .setRewardStd(0.5 - 0.05 * step)
                .setStalenessMean(0.25 * step)
                .setStalenessMax(step / 2)
                .build();
    }

    static Metric metric(String run, String name, double value, Long step, Long version) {
        return Metric.newBuilder(Samples.metric(name, value))
                .setRunId(run)
                .setStep(step)
                .setPolicyVersion(version)
                .setTags(Map.of())
                .setTimestamp(Instant.ofEpochMilli(1_767_225_600_000L + (step == null ? 0 : step)))
                .build();
    }
}

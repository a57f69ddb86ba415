package dev.diffustream.schemas.testing;

import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.CheckpointKind;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.DeadLetter;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.GroupClose;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.avro.SamplerSettings;
import dev.diffustream.schemas.avro.Split;
import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.avro.TestOutcome;
import dev.diffustream.schemas.avro.TestResult;
import dev.diffustream.schemas.avro.TrainStep;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.avro.specific.SpecificRecord;

/**
 * Deterministic, realistic sample events for tests and benchmarks (a completion of K tokens with
 * behaviour log-probs for I mask seeds, its execution, ...). Same arguments, same events.
 */
public final class Samples {
    private Samples() {}

    private static final Instant T0 = Instant.ofEpochMilli(1_767_225_600_000L);

    public static Task task(String taskId) {
        return Task.newBuilder()
                .setRunId("run-1")
                .setTaskId(taskId)
                .setPrompt(
                        "Please complete the following problem:\n```\ndef add3(x):\n    \"\"\"\n"
                                + "    Return x plus 3.\n    \"\"\"\n```\n")
                .setTests(List.of("assert add3(1) == 4", "assert add3(-3) == 0"))
                .setEntryPoint("add3")
                .setSetupCode(null)
                .setSource("builtin")
                .setSplit(Split.TRAIN)
                .setEpoch(0)
                .setSequence(7)
                .setSeed(1234L)
                .build();
    }

    public static SamplerSettings sampler(long seed) {
        return SamplerSettings.newBuilder()
                .setAlg("entropy")
                .setTemperature(1.0)
                .setTopP(0.95)
                .setTopK(0)
                .setAlgTemp(0.0)
                .setSteps(32)
                .setMaxNewTokens(64)
                .setEps(1e-3)
                .setSeed(seed)
                .build();
    }

    /**
     * A completion of {@code tokens} tokens with behaviour log-probs for {@code iterations} mask
     * seeds.
     */
    public static Completion completion(
            String groupId, int member, int groupSize, int tokens, int iterations) {
        SplittableRandom rnd = new SplittableRandom(groupId.hashCode() * 31L + member);
        List<Integer> prompt = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            prompt.add(rnd.nextInt(100));
        }
        List<Integer> ids = new ArrayList<>();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < tokens; i++) {
            ids.add(rnd.nextInt(100));
            order.add(i);
        }
        List<Long> seeds = new ArrayList<>();
        List<List<Float>> logps = new ArrayList<>();
        for (int j = 0; j < iterations; j++) {
            seeds.add((long) rnd.nextInt(4096));
            List<Float> row = new ArrayList<>();
            for (int i = 0; i < tokens; i++) {
                row.add((float) -rnd.nextDouble(0.0, 6.0));
            }
            logps.add(row);
        }
        return Completion.newBuilder()
                .setRunId("run-1")
                .setGroupId(groupId)
                .setCompletionId(groupId + "/" + member)
                .setTaskId("builtin/train/00007")
                .setMemberIndex(member)
                .setGroupSize(groupSize)
                .setSplit(Split.TRAIN)
                .setTests(List.of("assert add3(1) == 4", "assert add3(-3) == 0"))
                .setEntryPoint("add3")
                .setSetupCode(null)
                .setPromptTokenIds(prompt)
                .setTokenIds(ids)
                .setText("```python\ndef add3(x):\n    return x + 3\n```\n")
                .setPolicyVersion(3L)
                .setPolicySha256("ab".repeat(32))
                .setSampler(sampler(99L))
                .setMaskSeeds(seeds)
                .setBehaviourLogProbs(logps)
                .setDecodeOrder(order)
                .setActorId("actor-0")
                .setCreatedAt(T0)
                .build();
    }

    /** An execution of a completion with the given outcome and pass count out of 2 tests. */
    public static Execution execution(Completion c, Outcome outcome, int passed) {
        List<TestResult> tests = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            tests.add(
                    TestResult.newBuilder()
                            .setIndex(i)
                            .setOutcome(i < passed ? TestOutcome.PASSED : TestOutcome.FAILED)
                            .setDurationMs(12)
                            .setMessage(i < passed ? null : "AssertionError")
                            .build());
        }
        double code = outcome == Outcome.SANDBOX_ERROR ? 0.0 : passed / 2.0;
        double format = outcome == Outcome.FORMAT_ERROR ? 0.0 : 1.0;
        return Execution.newBuilder()
                .setRunId(c.getRunId())
                .setGroupId(c.getGroupId())
                .setCompletionId(c.getCompletionId())
                .setTaskId(c.getTaskId())
                .setGroupSize(c.getGroupSize())
                .setOutcome(outcome)
                .setTests(tests)
                .setPassed(passed)
                .setTotal(2)
                .setFormatReward(format)
                .setCodeReward(code)
                .setReward(2.0 * code + 0.5 * format)
                .setDurationMs(40)
                .setAttempt(1)
                .setSandboxId("sandbox-0")
                .setError(outcome == Outcome.SANDBOX_ERROR ? "bwrap failed" : null)
                .setExecutedAt(T0.plusMillis(50))
                .build();
    }

    public static AdvantageGroup advantageGroup(String groupId, int members) {
        List<AdvantageMember> list = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            Completion c = completion(groupId, m, members, 16, 2);
            list.add(
                    AdvantageMember.newBuilder()
                            .setCompletionId(c.getCompletionId())
                            .setMemberIndex(m)
                            .setPromptTokenIds(c.getPromptTokenIds())
                            .setTokenIds(c.getTokenIds())
                            .setPolicyVersion(c.getPolicyVersion())
                            .setMaskSeeds(c.getMaskSeeds())
                            .setBehaviourLogProbs(c.getBehaviourLogProbs())
                            .setOutcome(m % 2 == 0 ? Outcome.PASSED : Outcome.FAILED)
                            .setFormatReward(1.0)
                            .setCodeReward(m % 2 == 0 ? 1.0 : 0.0)
                            .setReward(m % 2 == 0 ? 2.5 : 0.5)
                            .setAdvantage(m % 2 == 0 ? 1.0 : -1.0)
                            .setSourcePartition(0)
                            .setSourceOffset(m)
                            .build());
        }
        return AdvantageGroup.newBuilder()
                .setRunId("run-1")
                .setGroupId(groupId)
                .setTaskId("builtin/train/00007")
                .setGroupSize(members)
                .setMembers(list)
                .setCloseReason(GroupClose.COMPLETE)
                .setExcludedMembers(0)
                .setRewardMean(1.5)
                .setRewardStd(1.0)
                .setZeroVariance(false)
                .setBaseline("leave_one_out")
                .setScaled(false)
                .setFirstSeenAt(T0)
                .setClosedAt(T0.plusMillis(900))
                .build();
    }

    public static Checkpoint checkpoint(long version) {
        return Checkpoint.newBuilder()
                .setRunId("run-1")
                .setVersion(version)
                .setUri("file:///tmp/ckpt/v" + version)
                .setSha256("cd".repeat(32))
                .setStep(version * 4)
                .setParentVersion(version == 0 ? null : version - 1)
                .setParentSha256(version == 0 ? null : "ef".repeat(32))
                .setConfigHash("01".repeat(32))
                .setKind(version == 0 ? CheckpointKind.INITIAL : CheckpointKind.TRAINED)
                .setCreatedAt(T0)
                .build();
    }

    public static TrainStep trainStep(long step) {
        return TrainStep.newBuilder()
                .setRunId("run-1")
                .setStep(step)
                .setBatch((step + 1) / 2)
                .setIteration((int) ((step + 1) % 2))
                .setMaskSeedIndex((int) ((step + 1) % 2))
                .setPolicyVersionBefore(step / 4)
                .setGroups(
                        List.of(
                                GroupRef.newBuilder()
                                        .setGroupId("g-1")
                                        .setPartition(0)
                                        .setOffset(10)
                                        .setMembers(8)
                                        .setDroppedStale(0)
                                        .build()))
                .setLoss(0.125)
                .setPolicyLoss(0.12)
                .setKl(0.5)
                .setClipFractionLow(0.01)
                .setClipFractionHigh(0.02)
                .setGradNorm(0.7)
                .setLearningRate(1e-4)
                .setTokens(512)
                .setStalenessMean(0.5)
                .setStalenessMax(1)
                .setRewardMean(1.25)
                .setRewardStd(0.9)
                .setDurationMs(800)
                .setCheckpointVersion(null)
                .setCheckpointSha256(null)
                .setFinishedAt(T0)
                .build();
    }

    public static Metric metric(String name, double value) {
        return Metric.newBuilder()
                .setRunId("run-1")
                .setSource("learner")
                .setName(name)
                .setValue(value)
                .setStep(3L)
                .setPolicyVersion(1L)
                .setTags(Map.of("stage", "learner"))
                .setTimestamp(T0)
                .build();
    }

    public static DeadLetter deadLetter() {
        return DeadLetter.newBuilder()
                .setSourceTopic("completions")
                .setSourcePartition(1)
                .setSourceOffset(42)
                .setKey(ByteBuffer.wrap(new byte[] {'g', '1'}))
                .setValue(ByteBuffer.wrap(new byte[] {1, 2, 3}))
                .setError("unknown magic byte 0x01")
                .setErrorClass("org.apache.kafka.common.errors.SerializationException")
                .setService("streams")
                .setTimestamp(T0)
                .build();
    }

    /** One sample of every event type, in topic order. */
    public static List<SpecificRecord> oneOfEach() {
        Completion c = completion("g-1", 0, 4, 8, 2);
        return List.of(
                task("builtin/train/00007"),
                c,
                execution(c, Outcome.PASSED, 2),
                advantageGroup("g-1", 2),
                checkpoint(1),
                trainStep(1),
                metric("rewards/mean", 1.5),
                deadLetter());
    }
}

package dev.diffustream.sandbox;

import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.Outcome;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The engine's result for one completion.
 *
 * <p>For {@code SANDBOX_ERROR} the rewards are {@code NaN}: a fault of the sandbox is not a reward
 * of 0, and a consumer that forgets to check the outcome gets a NaN rather than a silent zero.
 *
 * @param outcome typed outcome (see {@link OutcomeFolding} for the executed cases)
 * @param tests per-test results in test order; empty when nothing was executed
 * @param passed number of tests passed
 * @param total number of tests executed (0 when nothing was executed)
 * @param formatReward 0, 0.5 or 1 (spec B.1); NaN for SANDBOX_ERROR
 * @param codeReward pass rate in [0, 1], 0 unless formatReward = 1 (spec B.2); NaN for
 *     SANDBOX_ERROR
 * @param reward weighted total with the engine's weights; NaN for SANDBOX_ERROR
 * @param durationMs wall-clock time of the whole execution, retries included
 * @param attempt the attempt that produced this result (1 = first)
 * @param sandboxId the engine slot that ran it ("" when no sandbox was needed)
 * @param error for SANDBOX_ERROR: what failed in the sandbox itself; otherwise null
 * @param detail for FORMAT_ERROR and SYNTAX_ERROR: why (e.g. the SyntaxError); otherwise null
 */
public record ExecutionResult(
        Outcome outcome,
        List<TestCaseResult> tests,
        int passed,
        int total,
        double formatReward,
        double codeReward,
        double reward,
        long durationMs,
        int attempt,
        String sandboxId,
        String error,
        String detail) {

    public ExecutionResult {
        Objects.requireNonNull(outcome, "outcome");
        tests = List.copyOf(tests);
        sandboxId = sandboxId == null ? "" : sandboxId;
    }

    /**
     * The Avro event; the identity fields come from the completion (the engine does not know them).
     */
    public Execution toAvro(
            String runId,
            String groupId,
            String completionId,
            String taskId,
            int groupSize,
            Instant executedAt) {
        return Execution.newBuilder()
                .setRunId(runId)
                .setGroupId(groupId)
                .setCompletionId(completionId)
                .setTaskId(taskId)
                .setGroupSize(groupSize)
                .setOutcome(outcome)
                .setTests(tests.stream().map(TestCaseResult::toAvro).toList())
                .setPassed(passed)
                .setTotal(total)
                .setFormatReward(formatReward)
                .setCodeReward(codeReward)
                .setReward(reward)
                .setDurationMs(durationMs)
                .setAttempt(attempt)
                .setSandboxId(sandboxId)
                .setError(error)
                .setExecutedAt(executedAt)
                .build();
    }
}

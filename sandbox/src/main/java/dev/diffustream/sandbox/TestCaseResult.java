package dev.diffustream.sandbox;

import dev.diffustream.schemas.avro.TestOutcome;
import dev.diffustream.schemas.avro.TestResult;
import java.util.Objects;

/**
 * Result of one test statement, run in a fresh interpreter after the full solution.
 *
 * @param index position of the test in the task's test list
 * @param outcome PASSED only if the test statement itself completed; FAILED for an assertion error;
 *     ERROR for any other exception or a process that ended before the statement completed; TIMEOUT
 *     for the wall-clock or CPU limit; MEMORY_LIMIT for a MemoryError; SKIPPED when the execution's
 *     time budget ran out before the test started
 * @param durationMs wall-clock time of the test's process
 * @param message short diagnostic (exception type and message), or null
 * @param output the first bytes of the test's stdout and stderr (diagnostics only)
 */
public record TestCaseResult(
        int index, TestOutcome outcome, long durationMs, String message, String output) {

    public TestCaseResult {
        Objects.requireNonNull(outcome, "outcome");
        output = output == null ? "" : output;
    }

    public boolean passed() {
        return outcome == TestOutcome.PASSED;
    }

    /** The Avro form (without the captured output, which stays local). */
    public TestResult toAvro() {
        return TestResult.newBuilder()
                .setIndex(index)
                .setOutcome(outcome)
                .setDurationMs(durationMs)
                .setMessage(message)
                .build();
    }
}

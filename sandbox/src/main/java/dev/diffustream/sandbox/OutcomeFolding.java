package dev.diffustream.sandbox;

import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.avro.TestOutcome;
import java.util.List;

/**
 * How per-test outcomes fold into the outcome and code reward of an execution whose format reward
 * is 1 (the tests ran). The rules, in order:
 *
 * <ol>
 *   <li>no tests: {@code FAILED}, code reward 0 (the release divides by the test count and its
 *       ZeroDivisionError gives 0, spec B.2 step 3);
 *   <li>every test passed: {@code PASSED}, code reward 1;
 *   <li>a test timed out or was skipped for lack of time, and {@code timeoutZeroesCodeReward} (the
 *       release: the uncaught {@code TimeoutExpired} or the sandbox timeout zeroes the row, spec
 *       B.2 steps 3-4): {@code TIMEOUT}, code reward 0;
 *   <li>some passed: {@code PARTIAL}, code reward = passed / total;
 *   <li>none passed, by the first that applies: any TIMEOUT or SKIPPED → {@code TIMEOUT}; any
 *       MEMORY_LIMIT → {@code MEMORY_LIMIT}; any FAILED (an assertion did not hold) → {@code
 *       FAILED}; otherwise (every test ended in ERROR) → {@code RUNTIME_ERROR}. Code reward 0.
 * </ol>
 *
 * {@code FORMAT_ERROR}, {@code SYNTAX_ERROR} and {@code SANDBOX_ERROR} are decided before any test
 * runs and never come from here.
 */
public final class OutcomeFolding {

    /** The folded outcome of a set of test results. */
    public record Folded(Outcome outcome, int passed, int total, double codeReward) {}

    private OutcomeFolding() {}

    public static Folded fold(List<TestCaseResult> tests, boolean timeoutZeroesCodeReward) {
        int total = tests.size();
        int passed = 0;
        boolean timeout = false;
        boolean memory = false;
        boolean failed = false;
        for (TestCaseResult t : tests) {
            TestOutcome o = t.outcome();
            passed += o == TestOutcome.PASSED ? 1 : 0;
            timeout |= o == TestOutcome.TIMEOUT || o == TestOutcome.SKIPPED;
            memory |= o == TestOutcome.MEMORY_LIMIT;
            failed |= o == TestOutcome.FAILED;
        }
        if (total == 0) {
            return new Folded(Outcome.FAILED, 0, 0, 0.0);
        }
        if (passed == total) {
            return new Folded(Outcome.PASSED, passed, total, 1.0);
        }
        if (timeout && timeoutZeroesCodeReward) {
            return new Folded(Outcome.TIMEOUT, passed, total, 0.0);
        }
        if (passed > 0) {
            return new Folded(Outcome.PARTIAL, passed, total, (double) passed / total);
        }
        Outcome none =
                timeout
                        ? Outcome.TIMEOUT
                        : memory
                                ? Outcome.MEMORY_LIMIT
                                : failed ? Outcome.FAILED : Outcome.RUNTIME_ERROR;
        return new Folded(none, 0, total, 0.0);
    }
}

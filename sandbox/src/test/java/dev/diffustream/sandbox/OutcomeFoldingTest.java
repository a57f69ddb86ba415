package dev.diffustream.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.sandbox.OutcomeFolding.Folded;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.avro.TestOutcome;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutcomeFoldingTest {

    private static List<TestCaseResult> tests(TestOutcome... outcomes) {
        List<TestCaseResult> list = new ArrayList<>();
        for (int i = 0; i < outcomes.length; i++) {
            list.add(new TestCaseResult(i, outcomes[i], 1, null, ""));
        }
        return list;
    }

    @Test
    void shouldBePassedWithRewardOneWhenEveryTestPassed() {
        Folded f = OutcomeFolding.fold(tests(TestOutcome.PASSED, TestOutcome.PASSED), true);
        assertThat(f).isEqualTo(new Folded(Outcome.PASSED, 2, 2, 1.0));
    }

    @Test
    void shouldBePartialWithThePassRateWhenSomePassed() {
        Folded f =
                OutcomeFolding.fold(
                        tests(
                                TestOutcome.PASSED,
                                TestOutcome.FAILED,
                                TestOutcome.ERROR,
                                TestOutcome.PASSED),
                        true);
        assertThat(f).isEqualTo(new Folded(Outcome.PARTIAL, 2, 4, 0.5));
    }

    @Test
    void shouldZeroTheRewardWhenATestTimedOutUnderReleaseSemantics() {
        // given one timeout among passes: the release's uncaught TimeoutExpired zeroes the row
        List<TestCaseResult> t = tests(TestOutcome.PASSED, TestOutcome.TIMEOUT, TestOutcome.PASSED);

        // then
        assertThat(OutcomeFolding.fold(t, true)).isEqualTo(new Folded(Outcome.TIMEOUT, 2, 3, 0));
        // and without release semantics the timeout is one failed test
        assertThat(OutcomeFolding.fold(t, false))
                .isEqualTo(new Folded(Outcome.PARTIAL, 2, 3, 2.0 / 3));
    }

    @Test
    void shouldTreatSkippedTestsLikeTimeouts() {
        List<TestCaseResult> t = tests(TestOutcome.PASSED, TestOutcome.SKIPPED);
        assertThat(OutcomeFolding.fold(t, true).outcome()).isEqualTo(Outcome.TIMEOUT);
        assertThat(OutcomeFolding.fold(t, false)).isEqualTo(new Folded(Outcome.PARTIAL, 1, 2, 0.5));
        assertThat(OutcomeFolding.fold(tests(TestOutcome.SKIPPED), false).outcome())
                .isEqualTo(Outcome.TIMEOUT);
    }

    @Test
    void shouldPreferTimeoutThenMemoryThenFailedWhenNonePassed() {
        assertThat(
                        OutcomeFolding.fold(
                                        tests(
                                                TestOutcome.FAILED,
                                                TestOutcome.MEMORY_LIMIT,
                                                TestOutcome.TIMEOUT),
                                        false)
                                .outcome())
                .isEqualTo(Outcome.TIMEOUT);
        assertThat(
                        OutcomeFolding.fold(
                                        tests(
                                                TestOutcome.ERROR,
                                                TestOutcome.MEMORY_LIMIT,
                                                TestOutcome.FAILED),
                                        false)
                                .outcome())
                .isEqualTo(Outcome.MEMORY_LIMIT);
        assertThat(
                        OutcomeFolding.fold(tests(TestOutcome.ERROR, TestOutcome.FAILED), false)
                                .outcome())
                .isEqualTo(Outcome.FAILED);
    }

    @Test
    void shouldBeRuntimeErrorWhenEveryTestErred() {
        Folded f = OutcomeFolding.fold(tests(TestOutcome.ERROR, TestOutcome.ERROR), true);
        assertThat(f).isEqualTo(new Folded(Outcome.RUNTIME_ERROR, 0, 2, 0.0));
    }

    @Test
    void shouldBeFailedWithRewardZeroWhenThereAreNoTests() {
        // the release divides by zero and its exception gives 0 (spec B.2 step 3)
        assertThat(OutcomeFolding.fold(List.of(), true))
                .isEqualTo(new Folded(Outcome.FAILED, 0, 0, 0.0));
    }
}

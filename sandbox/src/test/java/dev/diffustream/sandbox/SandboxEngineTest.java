package dev.diffustream.sandbox;

import static dev.diffustream.sandbox.SandboxTestSupport.py;
import static dev.diffustream.sandbox.SandboxTestSupport.testConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.avro.TestOutcome;
import dev.diffustream.schemas.config.RewardWeights;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The engine against real sandboxes: rewards (spec §B), isolation between tests, faults. */
class SandboxEngineTest {

    private static final String SUM_LIST = "def sum_list(numbers):\n    return sum(numbers)\n";
    private static final List<String> SUM_TESTS =
            List.of(
                    "assert sum_list([1, 2, 3]) == 6",
                    "assert sum_list([]) == 0",
                    "assert sum_list([-1, 1]) == 0",
                    "assert sum_list([10]) == 10");

    private static SandboxEngine engine;

    @BeforeAll
    static void startEngine() {
        engine = SandboxEngine.start(testConfig().build());
    }

    @AfterAll
    static void stopEngine() {
        engine.close();
    }

    // --- spec B.3 fixtures ---------------------------------------------------------------------

    @Test
    void shouldRewardACorrectSolutionWithOneAndOne() {
        // given spec B.3 case 1: a correct sum_list with 4 asserts
        ExecutionResult r = engine.execute(new ExecutionRequest(py(SUM_LIST), SUM_TESTS));

        // then
        assertThat(r.outcome()).isEqualTo(Outcome.PASSED);
        assertThat(r.codeReward()).isEqualTo(1.0);
        assertThat(r.formatReward()).isEqualTo(1.0);
        assertThat(r.reward()).isEqualTo(2.5);
        assertThat(r.tests()).extracting(TestCaseResult::outcome).containsOnly(TestOutcome.PASSED);
        assertThat(r.tests()).extracting(TestCaseResult::index).containsExactly(0, 1, 2, 3);
    }

    @Test
    void shouldGiveHalfAFormatRewardAndNoCodeRewardForAMissingColon() {
        // given spec B.3 case 2
        String code = "def sum_list(numbers)\n    return sum(numbers)\n";

        // when
        ExecutionResult r = engine.execute(new ExecutionRequest(py(code), SUM_TESTS));

        // then the syntax check failed in the sandbox and nothing ran
        assertThat(r.outcome()).isEqualTo(Outcome.SYNTAX_ERROR);
        assertThat(r.formatReward()).isEqualTo(0.5);
        assertThat(r.codeReward()).isEqualTo(0.0);
        assertThat(r.reward()).isEqualTo(0.25);
        assertThat(r.tests()).isEmpty();
        assertThat(r.detail()).contains("SyntaxError");
    }

    @Test
    void shouldGiveNothingWithoutAClosingFence() {
        // given spec B.3 case 3
        String text = "```python\n" + SUM_LIST;

        // when
        ExecutionResult r = engine.execute(new ExecutionRequest(text, SUM_TESTS));

        // then
        assertThat(r.outcome()).isEqualTo(Outcome.FORMAT_ERROR);
        assertThat(r.formatReward()).isEqualTo(0.0);
        assertThat(r.codeReward()).isEqualTo(0.0);
        assertThat(r.tests()).isEmpty();
        assertThat(r.sandboxId()).isEmpty();
    }

    @Test
    void shouldGiveNothingForTwoPythonBlocks() {
        // given spec B.3 case 4
        String text = py(SUM_LIST) + py("print(sum_list([1, 2]))");

        // when
        ExecutionResult r = engine.execute(new ExecutionRequest(text, SUM_TESTS));

        // then
        assertThat(r.outcome()).isEqualTo(Outcome.FORMAT_ERROR);
        assertThat(r.formatReward()).isEqualTo(0.0);
        assertThat(r.codeReward()).isEqualTo(0.0);
    }

    // --- rewards and semantics -----------------------------------------------------------------

    @Test
    void shouldReportThePassRateAndPerTestDetail() {
        // given a solution that is wrong for negative numbers
        String code = "def sum_list(numbers):\n    return sum(abs(n) for n in numbers)\n";

        // when
        ExecutionResult r = engine.execute(new ExecutionRequest(py(code), SUM_TESTS));

        // then
        assertThat(r.outcome()).isEqualTo(Outcome.PARTIAL);
        assertThat(r.passed()).isEqualTo(3);
        assertThat(r.total()).isEqualTo(4);
        assertThat(r.codeReward()).isEqualTo(0.75);
        assertThat(r.reward()).isEqualTo(2.0 * 0.75 + 0.5);
        assertThat(r.tests().get(2).outcome()).isEqualTo(TestOutcome.FAILED);
        assertThat(r.tests().get(2).message()).startsWith("AssertionError");
    }

    @Test
    void shouldUseTheConfiguredWeights() {
        try (SandboxEngine other =
                SandboxEngine.start(
                        testConfig().workers(1).weights(new RewardWeights(1.0, 1.0)).build())) {
            ExecutionResult r = other.execute(new ExecutionRequest(py(SUM_LIST), SUM_TESTS));
            assertThat(r.reward()).isEqualTo(2.0);
        }
    }

    @Test
    void shouldRunEachTestInAFreshInterpreter() {
        // given a solution whose state changes at every call, and a file written by each test
        String code =
                "import os\n"
                        + "calls = []\n"
                        + "def f():\n"
                        + "    calls.append(1)\n"
                        + "    seen = os.path.exists('marker')\n"
                        + "    open('marker', 'w').write('x')\n"
                        + "    return len(calls), seen\n";
        List<String> tests = List.of("assert f() == (1, False)", "assert f() == (1, False)");

        // when
        ExecutionResult r = engine.execute(new ExecutionRequest(py(code), tests));

        // then neither the interpreter state nor the file of test 0 reached test 1
        assertThat(r.outcome()).as(r.toString()).isEqualTo(Outcome.PASSED);
    }

    @Test
    void shouldRunSetupCodeBeforeEachTest() {
        // given MBPP-style setup code that the tests rely on
        String setup = "import math\nLIMIT = 10\n";
        List<String> tests = List.of("assert f(LIMIT) == 100", "assert math.isqrt(f(LIMIT)) == 10");

        // when
        ExecutionResult r =
                engine.execute(
                        new ExecutionRequest(py("def f(n):\n    return n * n\n"), tests, setup));

        // then
        assertThat(r.outcome()).as(r.toString()).isEqualTo(Outcome.PASSED);
    }

    @Test
    void shouldAcceptCrLfAndTabsInCodeAndTests() {
        // given MBPP's line endings and indentation
        String code =
                "def f(xs):\r\n\tout = []\r\n\tfor x in xs:\r\n\t\tout.append(x * 2)\r\n\treturn out\r\n";
        List<String> tests =
                List.of(
                        "assert f([1, 2]) == [2, 4]\r\n",
                        "for i in range(3):\r\n\tassert f([i]) == [2 * i]");

        // when
        ExecutionResult r = engine.execute(new ExecutionRequest(py(code), tests));

        // then
        assertThat(r.outcome()).as(r.toString()).isEqualTo(Outcome.PASSED);
    }

    @Test
    void shouldCountATestPassedOnlyWhenItsStatementCompleted() {
        // given a test that exits 0 before its assertion, as the release would count as passed
        ExecutionResult r =
                engine.execute(
                        new ExecutionRequest(
                                py("import os\ndef f():\n    os._exit(0)\n"),
                                List.of("assert f() == 1")));

        // then
        assertThat(r.outcome()).isEqualTo(Outcome.RUNTIME_ERROR);
        assertThat(r.codeReward()).isEqualTo(0.0);
        assertThat(r.tests().get(0).message()).contains("before the test statement completed");
    }

    @Test
    void shouldKeepTheOutputOfATest() {
        ExecutionResult r =
                engine.execute(
                        new ExecutionRequest(
                                py("print('hello from the solution')\n"),
                                List.of("import sys; print('to stderr', file=sys.stderr)")));
        assertThat(r.tests().get(0).output())
                .contains("hello from the solution")
                .contains("to stderr");
    }

    @Test
    void shouldReportATestThatDoesNotCompileAsAnError() {
        ExecutionResult r =
                engine.execute(
                        new ExecutionRequest(
                                py(SUM_LIST), List.of("assert sum_list([1]) == 1", "assert (")));
        assertThat(r.outcome()).isEqualTo(Outcome.PARTIAL);
        assertThat(r.tests().get(1).outcome()).isEqualTo(TestOutcome.ERROR);
        assertThat(r.tests().get(1).message()).contains("does not compile");
    }

    @Test
    void shouldGiveNoCodeRewardWithoutTests() {
        ExecutionResult r = engine.execute(new ExecutionRequest(py(SUM_LIST), List.of()));
        assertThat(r.outcome()).isEqualTo(Outcome.FAILED);
        assertThat(r.formatReward()).isEqualTo(1.0);
        assertThat(r.codeReward()).isEqualTo(0.0);
    }

    @Test
    void shouldExecuteConcurrentlyFromManyThreads() throws Exception {
        // given more concurrent callers than slots, each with its own expected answer
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try {
            List<Future<ExecutionResult>> futures = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                int k = i;
                futures.add(
                        pool.submit(
                                () ->
                                        engine.execute(
                                                new ExecutionRequest(
                                                        py("def k():\n    return " + k + "\n"),
                                                        List.of(
                                                                "assert k() == " + k,
                                                                "assert k() != " + (k + 1))))));
            }
            // then every result is its own
            for (Future<ExecutionResult> f : futures) {
                assertThat(f.get().outcome()).isEqualTo(Outcome.PASSED);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldMapToTheAvroExecution() {
        ExecutionResult r =
                engine.execute(
                        new ExecutionRequest(
                                py(SUM_LIST),
                                List.of("assert sum_list([1]) == 1", "assert False")));
        Instant at = Instant.parse("2026-01-01T00:00:00Z");

        Execution e = r.toAvro("run", "g1", "c1", "t1", 8, at);

        assertThat(e.getCompletionId()).isEqualTo("c1");
        assertThat(e.getGroupSize()).isEqualTo(8);
        assertThat(e.getOutcome()).isEqualTo(Outcome.PARTIAL);
        assertThat(e.getTests()).hasSize(2);
        assertThat(e.getTests().get(1).getOutcome()).isEqualTo(TestOutcome.FAILED);
        assertThat(e.getCodeReward()).isEqualTo(0.5);
        assertThat(e.getReward()).isEqualTo(r.reward());
        assertThat(e.getAttempt()).isEqualTo(1);
        assertThat(e.getSandboxId()).startsWith("slot-");
        assertThat(e.getExecutedAt()).isEqualTo(at);
    }

    @Test
    void shouldStopALyingEqualityOnlyWithStrictEquality() {
        // given a solution whose result claims to equal anything
        String code =
                "class Any:\n    def __eq__(self, other):\n        return True\n"
                        + "def sum_list(numbers):\n    return Any()\n";
        ExecutionRequest request = new ExecutionRequest(py(code), SUM_TESTS);

        // when
        ExecutionResult strict = engine.execute(request);
        ExecutionResult lax;
        try (SandboxEngine laxEngine =
                SandboxEngine.start(
                        testConfig().workers(1).uidBase(64130).strictEquality(false).build())) {
            lax = laxEngine.execute(request);
        }

        // then the release's comparison is fooled, the strict one is not
        assertThat(strict.outcome()).isEqualTo(Outcome.FAILED);
        assertThat(lax.outcome()).isEqualTo(Outcome.PASSED);
    }

    // --- timeouts ------------------------------------------------------------------------------

    @Test
    void shouldTimeOutATestAndZeroTheRewardUnderReleaseSemantics() {
        SandboxConfig.Builder b =
                testConfig().workers(1).testTimeoutSeconds(1).executionTimeoutSeconds(20);
        List<String> tests = List.of("assert f(1) == 1", "assert f(0) == 0", "assert f(2) == 2");
        String code = "def f(n):\n    while n == 0:\n        pass\n    return n\n";
        try (SandboxEngine release = SandboxEngine.start(b.build());
                SandboxEngine lenient =
                        SandboxEngine.start(
                                b.uidBase(64110).timeoutZeroesCodeReward(false).build())) {
            // when
            ExecutionResult r1 = release.execute(new ExecutionRequest(py(code), tests));
            ExecutionResult r2 = lenient.execute(new ExecutionRequest(py(code), tests));

            // then
            assertThat(r1.tests().get(1).outcome()).isEqualTo(TestOutcome.TIMEOUT);
            assertThat(r1.outcome()).isEqualTo(Outcome.TIMEOUT);
            assertThat(r1.codeReward()).isEqualTo(0.0);
            assertThat(r2.outcome()).isEqualTo(Outcome.PARTIAL);
            assertThat(r2.codeReward()).isEqualTo(2.0 / 3);
        }
    }

    @Test
    void shouldSkipTestsOnceTheExecutionBudgetIsSpent() {
        SandboxConfig c =
                testConfig().workers(1).testTimeoutSeconds(1).executionTimeoutSeconds(1.5).build();
        List<String> tests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            tests.add("import time; time.sleep(0.6)");
        }
        try (SandboxEngine e = SandboxEngine.start(c)) {
            ExecutionResult r = e.execute(new ExecutionRequest(py("x = 1\n"), tests));

            assertThat(r.tests()).extracting(TestCaseResult::outcome).contains(TestOutcome.SKIPPED);
            assertThat(r.outcome()).isEqualTo(Outcome.TIMEOUT);
            assertThat(r.codeReward()).isEqualTo(0.0);
            assertThat(r.durationMs()).isLessThan(20_000);
        }
    }

    // --- faults, start-up ----------------------------------------------------------------------

    @Test
    void shouldRetryWhenTheSandboxFailsMidExecution() throws Exception {
        String scripts;
        try (SandboxEngine e =
                SandboxEngine.start(testConfig().workers(1).retryBackoffMs(10).build())) {
            scripts = e.scriptsDir().toString();
            // given an execution in progress
            ExecutorService pool = Executors.newSingleThreadExecutor();
            Future<ExecutionResult> running =
                    pool.submit(
                            () ->
                                    e.execute(
                                            new ExecutionRequest(
                                                    py("import time\ntime.sleep(1.5)\n"),
                                                    List.of("assert True"))));
            Thread.sleep(700);

            // when its supervisor dies
            for (long pid : e.supervisorPids()) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }

            // then the execution is retried on a fresh supervisor and succeeds
            ExecutionResult r = running.get();
            pool.shutdown();
            assertThat(r.outcome()).isEqualTo(Outcome.PASSED);
            assertThat(r.attempt()).isEqualTo(2);
            assertThat(e.stats().faults()).isEqualTo(1);
        }
        assertThat(
                        SandboxTestSupport.eventually(
                                () -> SandboxTestSupport.processesMentioning(scripts).isEmpty()))
                .as("%s", SandboxTestSupport.processesMentioning(scripts))
                .isTrue();
    }

    @Test
    void shouldLeaveNoProcessBehindWhenSandboxesDieDuringStartUp() throws Exception {
        SandboxEngine e = SandboxEngine.start(testConfig().workers(1).uidBase(64140).build());
        String scripts = e.scriptsDir().toString();
        try {
            for (int i = 0; i < 5; i++) {
                // given a job done, and the next sandbox being launched right now
                ExecutionResult r = e.execute(new ExecutionRequest(py(SUM_LIST), SUM_TESTS));
                assertThat(r.outcome()).isEqualTo(Outcome.PASSED);

                // when that sandbox's bwrap dies during its start-up
                for (long pid : e.supervisorPids()) {
                    ProcessHandle.of(pid)
                            .ifPresent(h -> h.children().forEach(ProcessHandle::destroyForcibly));
                }
            }
            // then the engine still works
            assertThat(e.execute(new ExecutionRequest(py(SUM_LIST), SUM_TESTS)).outcome())
                    .isEqualTo(Outcome.PASSED);
        } finally {
            e.close();
        }
        // and after close nothing of it runs anywhere on the host
        assertThat(
                        SandboxTestSupport.eventually(
                                () -> SandboxTestSupport.processesMentioning(scripts).isEmpty()))
                .as("%s", SandboxTestSupport.processesMentioning(scripts))
                .isTrue();
    }

    @Test
    void shouldReportASandboxErrorNotAZeroRewardWhenEveryAttemptFails() throws Exception {
        SandboxConfig c =
                testConfig().workers(1).maxAttempts(2).retryBackoffMs(10).prelaunch(false).build();
        try (SandboxEngine e = SandboxEngine.start(c)) {
            // given a harness that can no longer start
            java.nio.file.Files.writeString(
                    e.scriptsDir().resolve("harness.py"), "raise SystemExit(5)\n");

            // when
            ExecutionResult r = e.execute(new ExecutionRequest(py(SUM_LIST), SUM_TESTS));

            // then
            assertThat(r.outcome()).isEqualTo(Outcome.SANDBOX_ERROR);
            assertThat(r.attempt()).isEqualTo(2);
            assertThat(r.error()).contains("did not start");
            assertThat(r.codeReward()).isNaN();
            assertThat(r.reward()).isNaN();
            assertThat(r.formatReward()).isNaN();
            assertThat(e.stats().sandboxErrors()).isEqualTo(1);
            assertThat(e.stats().faults()).isEqualTo(2);
        }
    }

    @Test
    void shouldRefuseToStartWithoutBubblewrapAndSayHowToInstallIt() {
        SandboxConfig c = testConfig().bwrap("/nonexistent/bwrap").build();
        assertThatThrownBy(() -> SandboxEngine.start(c))
                .isInstanceOf(SandboxUnavailableException.class)
                .hasMessageContaining("apt-get install -y bubblewrap")
                .hasMessageContaining("allowUnisolated");
    }

    @Test
    void shouldRunUnisolatedOnlyWithTheFlagAndWarnOnStart() {
        // given a log listener and no bubblewrap
        Logger log = (Logger) LoggerFactory.getLogger(SandboxEngine.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        log.addAppender(appender);
        try (SandboxEngine e =
                SandboxEngine.start(
                        testConfig()
                                .workers(1)
                                .bwrap("/nonexistent/bwrap")
                                .allowUnisolated(true)
                                .build())) {
            // when
            ExecutionResult r = e.execute(new ExecutionRequest(py(SUM_LIST), SUM_TESTS));

            // then it works, says so, and warned
            assertThat(e.isolated()).isFalse();
            assertThat(r.outcome()).isEqualTo(Outcome.PASSED);
            assertThat(appender.list)
                    .anySatisfy(
                            ev -> {
                                assertThat(ev.getLevel()).isEqualTo(Level.WARN);
                                assertThat(ev.getFormattedMessage()).contains("WITHOUT ISOLATION");
                            });
        } finally {
            log.detachAppender(appender);
        }
    }

    @Test
    void shouldRejectUseAfterClose() {
        SandboxEngine e = SandboxEngine.start(testConfig().workers(1).uidBase(64120).build());
        e.close();
        assertThatThrownBy(() -> e.execute(new ExecutionRequest(py(SUM_LIST), SUM_TESTS)))
                .isInstanceOf(IllegalStateException.class);
    }
}

package dev.diffustream.sandbox.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.sandbox.ExecutionRequest;
import dev.diffustream.sandbox.ExecutionResult;
import dev.diffustream.sandbox.SandboxConfig;
import dev.diffustream.sandbox.SandboxEngine;
import dev.diffustream.schemas.avro.Outcome;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sandbox throughput (the logic behind {@code diffustream bench sandbox}), printed as JSON lines.
 *
 * <p>A realistic program: a correct solution (typing import, a loop) with 5 asserts, executed with
 * as many concurrent callers as workers. In the same run, for comparison, the rate of the simplest
 * unisolated approach (one bare {@code python3 -I -S -c solution+test} process per test) and of the
 * naive isolated one (one bubblewrap launch per test, the ~80/s reference of issue 4).
 */
public final class SandboxBench {
    static final String SOLUTION =
            "from typing import List\n\n\n"
                    + "def running_max(numbers: List[int]) -> List[int]:\n"
                    + "    result = []\n"
                    + "    best = None\n"
                    + "    for n in numbers:\n"
                    + "        best = n if best is None else max(best, n)\n"
                    + "        result.append(best)\n"
                    + "    return result\n";
    static final List<String> TESTS =
            List.of(
                    "assert running_max([]) == []",
                    "assert running_max([1, 2, 3, 4]) == [1, 2, 3, 4]",
                    "assert running_max([4, 3, 2, 1]) == [4, 4, 4, 4]",
                    "assert running_max([3, 2, 3, 100, 3]) == [3, 3, 3, 100, 100]",
                    "assert running_max(list(range(1000)))[-1] == 999");
    static final String COMPLETION = "```python\n" + SOLUTION + "```\n";

    private static final ObjectMapper JSON = new ObjectMapper();

    private SandboxBench() {}

    /**
     * Runs the three measurements.
     *
     * @param completions completions for the isolated engine (5 tests each); the baselines run the
     *     same number of tests
     * @param bwrapBaseline also measure one bwrap launch per test (needs bubblewrap and root)
     * @return the isolated rate in tests per second
     */
    public static double run(
            SandboxConfig config, int completions, boolean bwrapBaseline, PrintStream out)
            throws IOException, InterruptedException {
        if (completions < 1) {
            throw new IllegalArgumentException("completions must be >= 1, got " + completions);
        }
        int concurrency = config.workers();
        int tests = completions * TESTS.size();
        double isolated;
        try (SandboxEngine engine = SandboxEngine.start(config)) {
            // warm-up: every slot has run once and pre-launched its next sandbox
            timed(concurrency, concurrency, i -> check(engine.execute(request())));
            double seconds = timed(completions, concurrency, i -> check(engine.execute(request())));
            isolated = tests / seconds;
            out.println(
                    line("isolated", tests, seconds, concurrency)
                            .put("isolatedByBwrap", engine.isolated())
                            .put("strictEquality", config.strictEquality()));
        }
        double bareSeconds =
                timed(tests, concurrency, i -> runProcess(bareCommand(config, TESTS.get(i % 5))));
        double bare = tests / bareSeconds;
        out.println(line("bare_python", tests, bareSeconds, concurrency));
        if (bwrapBaseline) {
            double s =
                    timed(
                            tests,
                            concurrency,
                            i -> runProcess(bwrapCommand(config, TESTS.get(i % 5))));
            out.println(line("bwrap_per_test", tests, s, concurrency));
        }
        ObjectNode ratio = JSON.createObjectNode();
        ratio.put("bench", "sandbox");
        ratio.put("metric", "isolated_over_bare_python");
        ratio.put("value", round(isolated / bare));
        out.println(ratio);
        return isolated;
    }

    private static ExecutionRequest request() {
        return new ExecutionRequest(COMPLETION, TESTS);
    }

    private static void check(ExecutionResult r) {
        if (r.outcome() != Outcome.PASSED) {
            throw new IllegalStateException("the benchmark program did not pass: " + r);
        }
    }

    private static List<String> bareCommand(SandboxConfig config, String test) {
        return List.of(config.python(), "-I", "-S", "-c", SOLUTION + "\n" + test);
    }

    private static List<String> bwrapCommand(SandboxConfig config, String test) {
        List<String> c =
                new ArrayList<>(
                        List.of(
                                config.bwrap(),
                                "--unshare-all",
                                "--die-with-parent",
                                "--new-session",
                                "--ro-bind",
                                "/usr",
                                "/usr",
                                "--symlink",
                                "usr/lib",
                                "/lib",
                                "--symlink",
                                "usr/lib64",
                                "/lib64",
                                "--symlink",
                                "usr/bin",
                                "/bin",
                                "--tmpfs",
                                "/tmp",
                                "--dev",
                                "/dev",
                                "--clearenv",
                                "--setenv",
                                "PATH",
                                "/usr/bin",
                                "--chdir",
                                "/tmp",
                                "--cap-drop",
                                "ALL"));
        c.addAll(bareCommand(config, test));
        return c;
    }

    private static void runProcess(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + command.get(0));
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(
                    "exit status "
                            + p.exitValue()
                            + " from "
                            + String.join(" ", command.subList(0, 3)));
        }
    }

    interface Task {
        void run(int index) throws Exception;
    }

    /** Runs {@code n} tasks on {@code concurrency} threads; returns the wall-clock seconds. */
    static double timed(int n, int concurrency, Task task) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        AtomicInteger next = new AtomicInteger();
        try {
            long start = System.nanoTime();
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < concurrency; w++) {
                workers.add(
                        pool.submit(
                                () -> {
                                    int i;
                                    while ((i = next.getAndIncrement()) < n) {
                                        task.run(i);
                                    }
                                    return null;
                                }));
            }
            for (Future<?> f : workers) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException(
                            "benchmark task failed: " + e.getCause(), e.getCause());
                }
            }
            return (System.nanoTime() - start) / 1e9;
        } finally {
            pool.shutdownNow();
        }
    }

    private static ObjectNode line(String mode, int tests, double seconds, int concurrency) {
        ObjectNode n = JSON.createObjectNode();
        n.put("bench", "sandbox");
        n.put("mode", mode);
        n.put("tests", tests);
        n.put("seconds", round(seconds));
        n.put("testsPerSecond", round(tests / seconds));
        n.put("concurrency", concurrency);
        n.put("cores", Runtime.getRuntime().availableProcessors());
        return n;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}

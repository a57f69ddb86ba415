package dev.diffustream.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.sandbox.SupervisorProcess.SandboxFault;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.avro.TestOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes completions against their tests in isolated, hack-resistant sandboxes and computes the
 * rewards of spec §B.
 *
 * <p>Construct one per process with {@link #start(SandboxConfig)}, call {@link
 * #execute(ExecutionRequest)} from any number of threads (at most {@link #workers()} run at once,
 * further callers wait for a free slot; a pool of {@code workers()} threads keeps every slot busy),
 * and {@link #close()} it at shutdown.
 *
 * <p>Per completion: the shape check and block extraction happen here (spec B.1 steps 1-2); if the
 * shape fails the result is {@code FORMAT_ERROR} and nothing runs. Otherwise one fresh bubblewrap
 * sandbox (launched ahead of demand, used once) runs the syntax check ({@code ast.parse} of the
 * trimmed block, B.1 step 3) and, if it parses, every test in a fresh child process: the full
 * solution, then the task's setup code, then that single test (B.2). A fault of the sandbox itself
 * is retried with exponential backoff and then reported as {@code SANDBOX_ERROR}, never as a reward
 * of 0. See {@code sandbox/README.md} for the isolation and the threat model.
 */
public final class SandboxEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SandboxEngine.class);
    private static final long REPLY_MARGIN_MS = 75_000;

    private final SandboxConfig config;
    private final boolean isolated;
    private final ScriptsDirectory scripts;
    private final List<SupervisorProcess> all;
    private final BlockingQueue<SupervisorProcess> free;
    private final ExecutorService launcher;
    private final ObjectMapper json = new ObjectMapper();
    private final AtomicLong requests = new AtomicLong();
    private final Stats stats = new Stats();
    private volatile boolean closed;

    /** Counters for health and throughput metrics. */
    public static final class Stats {
        private final AtomicLong executions = new AtomicLong();
        private final AtomicLong testsRun = new AtomicLong();
        private final AtomicLong faults = new AtomicLong();
        private final AtomicLong sandboxErrors = new AtomicLong();

        /** Completions executed (every outcome). */
        public long executions() {
            return executions.get();
        }

        /** Test processes run. */
        public long testsRun() {
            return testsRun.get();
        }

        /** Sandbox faults seen, retried ones included. */
        public long faults() {
            return faults.get();
        }

        /** Executions reported as SANDBOX_ERROR after every attempt failed. */
        public long sandboxErrors() {
            return sandboxErrors.get();
        }
    }

    private SandboxEngine(SandboxConfig config, boolean isolated, ScriptsDirectory scripts) {
        this.config = config;
        this.isolated = isolated;
        this.scripts = scripts;
        this.all = new ArrayList<>();
        this.free = new ArrayBlockingQueue<>(config.workers());
        this.launcher =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread t = new Thread(r, "sandbox-launcher");
                            t.setDaemon(true);
                            return t;
                        });
    }

    /**
     * Starts {@code config.workers()} slots and checks that a sandbox works.
     *
     * @throws SandboxUnavailableException if bubblewrap is missing (and {@code allowUnisolated} is
     *     off), the process is not root, the interpreter is missing, or the first sandbox fails;
     *     the message says how to fix it
     */
    public static SandboxEngine start(SandboxConfig config) {
        Optional<Path> bwrap = Isolation.findExecutable(config.bwrap());
        boolean root = Isolation.effectiveUid() == 0;
        boolean isolated;
        if (bwrap.isPresent() && root) {
            isolated = true;
        } else if (!config.allowUnisolated()) {
            throw new SandboxUnavailableException(
                    bwrap.isEmpty()
                            ? "bubblewrap ('"
                                    + config.bwrap()
                                    + "') was not found, and the sandbox refuses to run untrusted"
                                    + " code without isolation. Install it with: apt-get install"
                                    + " -y bubblewrap (and apt-get install -y python3-seccomp), or"
                                    + " set sandbox.allowUnisolated=true to run WITHOUT isolation"
                                    + " (unsafe)"
                            : "the sandbox must run as root (uid 0, found uid "
                                    + Isolation.effectiveUid()
                                    + "): it runs test code as unprivileged per-slot uids, which"
                                    + " is what makes the process limit hold. Run as root, or set"
                                    + " sandbox.allowUnisolated=true to run WITHOUT isolation"
                                    + " (unsafe)");
        } else {
            isolated = false;
        }
        if (!isolated) {
            LOG.warn(
                    "SANDBOX RUNNING WITHOUT ISOLATION ({}): generated code can read and write"
                            + " this machine's files, use the network and outlive its test. Only"
                            + " for trusted code. Install bubblewrap (apt-get install -y"
                            + " bubblewrap) and run as root to isolate it.",
                    bwrap.isEmpty() ? "bubblewrap not found" : "not running as root");
        }
        if (!Files.isExecutable(Path.of(config.python()))) {
            throw new SandboxUnavailableException(
                    "sandbox.python '"
                            + config.python()
                            + "' is not an executable interpreter (Debian: apt-get install -y"
                            + " python3)");
        }
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        ScriptsDirectory.removeStale(tmp, ScriptsDirectory.MIN_STALE_AGE);
        SandboxEngine engine = new SandboxEngine(config, isolated, ScriptsDirectory.create(tmp));
        try {
            engine.startSlots(bwrap.orElse(null));
            engine.probe();
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        LOG.info(
                "sandbox engine started: {} workers, {}, uids {}..{}, strict equality {}",
                config.workers(),
                isolated ? "isolated (bubblewrap)" : "UNISOLATED",
                config.uidBase(),
                config.uidBase() + config.workers() - 1,
                config.strictEquality() ? "on" : "off");
        return engine;
    }

    private void startSlots(Path bwrap) {
        for (int i = 0; i < config.workers(); i++) {
            ObjectNode cfg = json.createObjectNode();
            cfg.put("unisolated", !isolated);
            cfg.put("harness", scripts.path().toString());
            cfg.put("python", config.python());
            cfg.put("bwrap", bwrap == null ? "" : bwrap.toString());
            cfg.put("uid", config.uidBase() + i);
            cfg.put("cpuSeconds", config.cpuTimeSeconds());
            cfg.put("memoryBytes", (long) config.memoryMb() << 20);
            cfg.put("fileSizeBytes", (long) config.maxFileSizeMb() << 20);
            cfg.put("openFiles", config.maxOpenFiles());
            cfg.put("processes", config.maxProcesses());
            cfg.put("strict", config.strictEquality());
            cfg.put("testTimeout", config.testTimeoutSeconds());
            cfg.put("budget", config.executionTimeoutSeconds());
            cfg.put("maxOutput", config.maxOutputBytes());
            cfg.put("seccomp", config.seccomp());
            cfg.put("tmpBytes", (long) config.tmpSizeMb() << 20);
            cfg.put("prelaunch", config.prelaunch());
            List<String> command =
                    List.of(
                            config.python(),
                            "-I",
                            "-S",
                            scripts.path().resolve("supervisor.py").toString(),
                            cfg.toString());
            SupervisorProcess slot = new SupervisorProcess("slot-" + i, command, json, launcher);
            all.add(slot);
            try {
                slot.start();
            } catch (SandboxFault e) {
                throw new SandboxUnavailableException(
                        "cannot start sandbox slot " + i + ": " + e.getMessage(), e);
            }
            free.add(slot);
        }
    }

    /** Runs one trivial completion so that a broken sandbox is found at start, not in training. */
    private void probe() {
        ExecutionResult r =
                execute(
                        new ExecutionRequest(
                                "```python\nvalue = 21 * 2\n```\n", List.of("assert value == 42")));
        if (r.outcome() != Outcome.PASSED) {
            throw new SandboxUnavailableException(
                    "the sandbox does not work on this machine: a trivial program gave "
                            + r.outcome()
                            + (r.error() != null ? " (" + r.error() + ")" : "")
                            + (r.tests().isEmpty() || r.tests().get(0).message() == null
                                    ? ""
                                    : " (" + r.tests().get(0).message() + ")"));
        }
    }

    public SandboxConfig config() {
        return config;
    }

    /** True unless the engine runs without bubblewrap (allowUnisolated). */
    public boolean isolated() {
        return isolated;
    }

    public int workers() {
        return config.workers();
    }

    public Stats stats() {
        return stats;
    }

    /** Where the Python side of the engine lives while it runs (tests break it on purpose). */
    Path scriptsDir() {
        return scripts.path();
    }

    /** Process ids of the slots' supervisor processes (for leak checks and diagnostics). */
    public List<Long> supervisorPids() {
        return all.stream().map(SupervisorProcess::pid).toList();
    }

    /**
     * Executes one completion: thread-safe; blocks while every slot is busy.
     *
     * @throws CancellationException if the calling thread is interrupted (no result exists)
     * @throws IllegalStateException if the engine is closed
     */
    public ExecutionResult execute(ExecutionRequest request) {
        if (closed) {
            throw new IllegalStateException("the sandbox engine is closed");
        }
        long started = System.nanoTime();
        stats.executions.incrementAndGet();
        String text = request.completionText();
        if (!FormatReward.hasValidShape(text)) {
            return new ExecutionResult(
                    Outcome.FORMAT_ERROR,
                    List.of(),
                    0,
                    0,
                    FormatReward.BAD_SHAPE,
                    0.0,
                    config.weights().total(0.0, FormatReward.BAD_SHAPE),
                    elapsedMs(started),
                    1,
                    "",
                    null,
                    "not exactly one ```python block ending the text with ```\\n (spec B.1)");
        }
        String block = FormatReward.firstPythonBlock(text).orElseThrow();
        ObjectNode job = json.createObjectNode();
        job.put("id", Long.toString(requests.incrementAndGet()));
        job.put("block", block);
        job.put("code", block);
        job.put("setup", request.setupCode());
        ArrayNode tests = job.putArray("tests");
        request.tests().forEach(tests::add);
        long timeoutMs =
                (long) ((config.executionTimeoutSeconds() + config.testTimeoutSeconds()) * 1000)
                        + REPLY_MARGIN_MS;

        String lastError = "no attempt was made";
        String lastSlot = "";
        int attempts = 0;
        for (int attempt = 1; attempt <= config.maxAttempts() && !closed; attempt++) {
            attempts = attempt;
            if (attempt > 1) {
                sleep(config.retryBackoffMs() << Math.min(attempt - 2, 20));
            }
            SupervisorProcess slot = acquire();
            lastSlot = slot.id();
            try {
                JsonNode reply = slot.call(job, timeoutMs);
                if (reply.path("ok").asBoolean(false)) {
                    return fromReply(reply, started, attempt, slot.id());
                }
                lastError = reply.path("error").asText("the sandbox reported a fault");
            } catch (SandboxFault e) {
                lastError = e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancellationException("interrupted while executing in the sandbox");
            } catch (RuntimeException e) {
                lastError = "unexpected reply from the sandbox: " + e;
            } finally {
                free.add(slot);
            }
            stats.faults.incrementAndGet();
            LOG.warn(
                    "sandbox fault on {} (attempt {}/{}): {}",
                    lastSlot,
                    attempt,
                    config.maxAttempts(),
                    lastError);
        }
        stats.sandboxErrors.incrementAndGet();
        return new ExecutionResult(
                Outcome.SANDBOX_ERROR,
                List.of(),
                0,
                0,
                Double.NaN,
                Double.NaN,
                Double.NaN,
                elapsedMs(started),
                Math.max(1, attempts),
                lastSlot,
                closed ? "the sandbox engine was closed: " + lastError : lastError,
                null);
    }

    private SupervisorProcess acquire() {
        try {
            return free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for a sandbox slot");
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while backing off a sandbox fault");
        }
    }

    private ExecutionResult fromReply(JsonNode reply, long started, int attempt, String slot) {
        JsonNode syntax = reply.get("syntax");
        if (!"OK".equals(syntax.path("outcome").asText())) {
            return new ExecutionResult(
                    Outcome.SYNTAX_ERROR,
                    List.of(),
                    0,
                    0,
                    FormatReward.SYNTAX_ERROR,
                    0.0,
                    config.weights().total(0.0, FormatReward.SYNTAX_ERROR),
                    elapsedMs(started),
                    attempt,
                    slot,
                    null,
                    syntax.path("msg").asText());
        }
        List<TestCaseResult> tests = new ArrayList<>();
        for (JsonNode t : reply.get("tests")) {
            String msg = t.path("msg").asText("");
            tests.add(
                    new TestCaseResult(
                            t.get("i").asInt(),
                            TestOutcome.valueOf(t.get("outcome").asText().toUpperCase(Locale.ROOT)),
                            t.path("ms").asLong(),
                            msg.isEmpty() ? null : msg,
                            t.path("out").asText("")));
        }
        tests.sort(Comparator.comparingInt(TestCaseResult::index));
        stats.testsRun.addAndGet(
                tests.stream().filter(t -> t.outcome() != TestOutcome.SKIPPED).count());
        OutcomeFolding.Folded folded = OutcomeFolding.fold(tests, config.timeoutZeroesCodeReward());
        return new ExecutionResult(
                folded.outcome(),
                tests,
                folded.passed(),
                folded.total(),
                FormatReward.VALID,
                folded.codeReward(),
                config.weights().total(folded.codeReward(), FormatReward.VALID),
                elapsedMs(started),
                attempt,
                slot,
                null,
                null);
    }

    private static long elapsedMs(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }

    /** Stops every slot (their sandboxes die with them) and deletes the scripts directory. */
    @Override
    public void close() {
        closed = true;
        for (SupervisorProcess slot : all) {
            slot.close();
        }
        launcher.shutdownNow();
        scripts.close();
    }
}

package dev.diffustream.cli.pipeline;

import dev.diffustream.cli.Main;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One {@code diffustream <service>} in its own JVM, started from the test classpath with {@code
 * java -cp <java.class.path> dev.diffustream.cli.Main …}. Standard output and error of each
 * incarnation go to {@code <logDir>/<name>.<n>.log}. {@link #kill()} is {@code kill -9} ({@link
 * Process#destroyForcibly()} sends SIGKILL on Linux), {@link #restart()} starts the same command
 * again, {@link #close()} stops it (SIGTERM, then SIGKILL) together with anything it started.
 *
 * <p>Every running instance is also registered with a JVM shutdown hook, so a test JVM that ends
 * abnormally (a failed or timed-out test, Ctrl-C) leaves no service process behind.
 */
final class ServiceProcess implements AutoCloseable {

    private static final Set<ServiceProcess> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> LIVE.forEach(ServiceProcess::destroyTree),
                                "service-process-reaper"));
    }

    /** JVM options of every service: small heaps (tensors live off-heap), few GC threads. */
    private static final List<String> JVM_OPTIONS =
            List.of(
                    "-Dai.djl.offline=true",
                    "-Xmx512m",
                    "-Xss4m",
                    // two cores shared by eight JVMs: a serial collector does not compete
                    "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1");

    private final String name;
    private final List<String> args;
    private final Path logDir;
    private final Path tmpDir;
    private final List<String> leftovers = new ArrayList<>();
    private Process process;
    private List<ProcessHandle> stopping;
    private Instant startedAt;
    private int incarnation;

    /**
     * @param name label of the instance (log file names, messages)
     * @param args the command line after {@code dev.diffustream.cli.Main}
     * @param tmpDir the service's {@code java.io.tmpdir}, so a test can see what it leaves there
     */
    ServiceProcess(String name, List<String> args, Path logDir, Path tmpDir) {
        this.name = name;
        this.args = List.copyOf(args);
        this.logDir = logDir;
        this.tmpDir = tmpDir;
    }

    String name() {
        return name;
    }

    /** Starts a new incarnation; the previous one must have ended. */
    synchronized ServiceProcess start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " is already running (pid " + pid() + ")");
        }
        incarnation++;
        Files.createDirectories(logDir);
        Files.createDirectories(tmpDir);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_OPTIONS);
        cmd.add("-Djava.io.tmpdir=" + tmpDir);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(args);
        startedAt = Instant.now();
        process =
                new ProcessBuilder(cmd)
                        .redirectErrorStream(true)
                        .redirectOutput(logFile().toFile())
                        .redirectInput(ProcessBuilder.Redirect.PIPE)
                        .start();
        LIVE.add(this);
        return this;
    }

    /** When the current incarnation was started. */
    synchronized Instant startedAt() {
        return startedAt;
    }

    /** How many times this service was started. */
    synchronized int incarnations() {
        return incarnation;
    }

    synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The log of the current incarnation. */
    Path logFile() {
        return logDir.resolve(name + "." + incarnation + ".log");
    }

    /**
     * {@code kill -9}: SIGKILL to the JVM only, as a crash would. Then waits for it to die, and for
     * the processes it had started (sandbox supervisors) to end on their own; any that are still
     * there after 15 s are killed and remembered in {@link #leftovers()}.
     */
    synchronized void kill() throws InterruptedException {
        if (process == null) {
            return;
        }
        List<ProcessHandle> children = process.descendants().toList();
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " survived SIGKILL for 30 s");
        }
        awaitGone(children, "SIGKILL");
        LIVE.remove(this);
    }

    /** Starts the same command again (after {@link #kill()} or an exit). */
    ServiceProcess restart() throws IOException {
        return start();
    }

    /** Child processes that outlived this service (a SIGKILL or a stop) by 15 s, then killed. */
    synchronized List<String> leftovers() {
        return List.copyOf(leftovers);
    }

    /** Waits for the current incarnation to exit by itself; its exit code, or empty on timeout. */
    Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
        Process p;
        synchronized (this) {
            p = process;
        }
        if (p == null || !p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return Optional.empty();
        }
        LIVE.remove(this);
        return Optional.of(p.exitValue());
    }

    /** The last {@code lines} lines of the current incarnation's log (for failure messages). */
    String logTail(int lines) {
        try {
            if (!Files.exists(logFile())) {
                return "(no log)";
            }
            List<String> all = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
            return String.join("\n    ", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Sends SIGTERM (its shutdown hook commits or aborts cleanly) without waiting. */
    synchronized void requestStop() {
        if (process != null && process.isAlive() && stopping == null) {
            stopping = process.descendants().toList();
            process.destroy();
        }
    }

    /**
     * Stops the service: SIGTERM, up to 20 s for it to exit, then SIGKILL; then its children must
     * end too (else they are killed and recorded in {@link #leftovers()}).
     */
    @Override
    public synchronized void close() {
        if (process == null) {
            return;
        }
        requestStop();
        if (stopping != null) {
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
                awaitGone(stopping, "stop");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
                stopping.forEach(ProcessHandle::destroyForcibly);
            }
            stopping = null;
        }
        LIVE.remove(this);
    }

    /** Stops all of them: SIGTERM to each first, so they shut down in parallel, then waits. */
    static void closeAll(List<ServiceProcess> services) {
        services.forEach(ServiceProcess::requestStop);
        services.forEach(ServiceProcess::close);
    }

    /**
     * Waits up to 15 s for the {@code children} of an ended service to end on their own; kills and
     * records ({@link #leftovers()}) any that do not.
     */
    private void awaitGone(List<ProcessHandle> children, String after) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (children.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        for (ProcessHandle c : children) {
            if (c.isAlive()) {
                leftovers.add(
                        "after "
                                + after
                                + ": "
                                + c.pid()
                                + " "
                                + c.info().commandLine().orElse("?"));
                c.destroyForcibly();
            }
        }
    }

    /** Last-resort cleanup: SIGKILL to the process and everything below it. */
    private synchronized void destroyTree() {
        if (process != null && process.isAlive()) {
            List<ProcessHandle> children = process.descendants().toList();
            process.destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
        }
    }

    @Override
    public String toString() {
        return name + "#" + incarnation + " (pid " + pid() + ", log " + logFile() + ")";
    }
}

package dev.diffustream.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One engine slot: a {@code supervisor.py} process (trusted, host side) that launches a fresh
 * sandbox per request, plus the threads that read its output. Not thread-safe: the engine hands a
 * slot to one caller at a time.
 */
final class SupervisorProcess implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SupervisorProcess.class);
    private static final String EOF = "\u0000EOF";
    private static final long HELLO_TIMEOUT_MS = 30_000;

    private final String id;
    private final List<String> command;
    private final ObjectMapper json;
    private final ExecutorService launcher;
    private Process process;
    private OutputStream stdin;
    private BlockingQueue<String> lines;
    private volatile boolean closed;

    /**
     * @param launcher a single long-lived thread that starts every supervisor: the supervisor arms
     *     PR_SET_PDEATHSIG, which fires when the <em>thread</em> that started it ends
     */
    SupervisorProcess(
            String id, List<String> command, ObjectMapper json, ExecutorService launcher) {
        this.id = id;
        this.command = List.copyOf(command);
        this.json = json;
        this.launcher = launcher;
    }

    String id() {
        return id;
    }

    long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    /** Starts the supervisor and waits for its hello line. */
    void start() throws SandboxFault {
        ProcessBuilder pb = new ProcessBuilder(command);
        // The supervisor and everything below it get no environment from the JVM (secrets stay
        // here); bwrap clears its sandbox's environment again.
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
        pb.environment().put("LANG", "C.UTF-8");
        try {
            process = launcher.submit(pb::start).get();
        } catch (ExecutionException e) {
            throw new SandboxFault(
                    "cannot start the sandbox supervisor " + command.get(0), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SandboxFault("interrupted while starting the sandbox supervisor");
        }
        stdin = process.getOutputStream();
        BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        lines = queue;
        Process p = process;
        Thread reader =
                new Thread(
                        () -> {
                            try (BufferedReader r =
                                    new BufferedReader(
                                            new InputStreamReader(
                                                    p.getInputStream(), StandardCharsets.UTF_8))) {
                                String line;
                                while ((line = r.readLine()) != null) {
                                    queue.add(line);
                                }
                            } catch (IOException e) {
                                // the process went away: EOF below
                            }
                            queue.add(EOF);
                        },
                        "sandbox-" + id + "-out");
        reader.setDaemon(true);
        reader.start();
        Thread errors =
                new Thread(
                        () -> {
                            try (BufferedReader r =
                                    new BufferedReader(
                                            new InputStreamReader(
                                                    p.getErrorStream(), StandardCharsets.UTF_8))) {
                                String line;
                                while ((line = r.readLine()) != null) {
                                    LOG.warn("sandbox {} supervisor: {}", id, line);
                                }
                            } catch (IOException e) {
                                // the process went away
                            }
                        },
                        "sandbox-" + id + "-err");
        errors.setDaemon(true);
        errors.start();
        JsonNode hello = next(HELLO_TIMEOUT_MS);
        if (!"hello".equals(hello.path("t").asText())) {
            throw new SandboxFault("the sandbox supervisor did not start: " + hello);
        }
    }

    /** Sends one request and waits for its reply; a fault leaves the slot to be restarted. */
    JsonNode call(ObjectNode request, long timeoutMs) throws SandboxFault, InterruptedException {
        if (process == null || !process.isAlive()) {
            restart();
        }
        try {
            stdin.write(json.writeValueAsBytes(request));
            stdin.write('\n');
            stdin.flush();
        } catch (IOException e) {
            throw new SandboxFault("cannot send the request to the sandbox supervisor", e);
        }
        JsonNode reply = nextInterruptibly(timeoutMs);
        if (!request.path("id").asText().equals(reply.path("id").asText())) {
            throw new SandboxFault("the sandbox supervisor answered another request: " + reply);
        }
        return reply;
    }

    private JsonNode next(long timeoutMs) throws SandboxFault {
        try {
            return nextInterruptibly(timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SandboxFault("interrupted while waiting for the sandbox supervisor");
        }
    }

    private JsonNode nextInterruptibly(long timeoutMs) throws SandboxFault, InterruptedException {
        String line = lines.poll(timeoutMs, TimeUnit.MILLISECONDS);
        if (line == null) {
            destroy();
            throw new SandboxFault(
                    "the sandbox supervisor gave no answer within " + timeoutMs + " ms");
        }
        if (line.equals(EOF)) {
            destroy();
            throw new SandboxFault("the sandbox supervisor exited");
        }
        try {
            return json.readTree(line);
        } catch (IOException e) {
            destroy();
            throw new SandboxFault("unreadable answer from the sandbox supervisor: " + line, e);
        }
    }

    /** Replaces a dead or unusable supervisor process. */
    void restart() throws SandboxFault {
        destroy();
        if (closed) {
            throw new SandboxFault("the sandbox engine is closed");
        }
        start();
    }

    private void destroy() {
        Process p = process;
        process = null;
        if (p == null) {
            return;
        }
        try {
            p.getOutputStream().close();
        } catch (IOException e) {
            // already gone
        }
        killTree(p);
    }

    /**
     * Kills the supervisor and everything below it. The descendants are listed first: a bwrap
     * killed during its start-up can leave its namespace child waiting forever, re-parented away
     * from the supervisor once the supervisor is gone.
     */
    private static void killTree(Process p) {
        List<ProcessHandle> below = p.descendants().toList();
        p.destroyForcibly();
        below.forEach(ProcessHandle::destroyForcibly);
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends the supervisor: closing its stdin makes it clean up and exit. */
    @Override
    public void close() {
        closed = true;
        Process p = process;
        process = null;
        if (p == null) {
            return;
        }
        try {
            p.getOutputStream().close();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                killTree(p);
            }
        } catch (IOException e) {
            killTree(p);
        } catch (InterruptedException e) {
            killTree(p);
            Thread.currentThread().interrupt();
        }
    }

    /** A fault of the sandbox infrastructure (not of the code under test). */
    static final class SandboxFault extends Exception {
        private static final long serialVersionUID = 1L;

        SandboxFault(String message) {
            super(message);
        }

        SandboxFault(String message, Throwable cause) {
            super(message + ": " + cause.getMessage(), cause);
        }
    }
}

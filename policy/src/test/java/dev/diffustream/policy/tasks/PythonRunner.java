package dev.diffustream.policy.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs task tests with the real {@code /usr/bin/python3}, for integration tests only: no isolation
 * (the sandbox is another module's job). Each test runs as spec B.2 prescribes its script — the
 * full code, then the setup code, then that one test — in a fresh global namespace, and passes iff
 * it raises nothing. Output of the code is swallowed.
 */
public final class PythonRunner {

    public static final Path PYTHON = Path.of("/usr/bin/python3");

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** An interpreter still running after this long is killed (its results are then missing). */
    private static final long TIMEOUT_SECONDS = 600;

    /** Reads JSON task lines on stdin, writes one JSON result line per task. */
    private static final String DRIVER =
            String.join(
                    "\n",
                    "import contextlib, io, json, sys",
                    "def run(code, setup, test):",
                    "    source = code + '\\n' + (setup + '\\n' if setup else '') + test",
                    "    try:",
                    "        sink = io.StringIO()",
                    "        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):",
                    "            exec(compile(source, '<task>', 'exec'), {'__name__': '__main__'})",
                    "        return None",
                    "    except BaseException as e:",
                    "        return type(e).__name__ + ': ' + str(e)[:200]",
                    "out = sys.stdout",
                    "for line in sys.stdin:",
                    "    t = json.loads(line)",
                    "    errors = [run(t['code'], t.get('setup'), x) for x in t['tests']]",
                    "    out.write(json.dumps({'id': t['id'], 'errors': errors}) + '\\n')",
                    "    out.flush()",
                    "");

    /** Code and tests of one task. */
    public record Script(String id, String code, String setup, List<String> tests) {}

    /** Per-test outcome: {@code null} for a pass, else the exception raised. */
    public record Result(String id, List<String> errors) {
        public boolean allPassed() {
            return errors.stream().allMatch(e -> e == null);
        }
    }

    private PythonRunner() {}

    /** Fails with a clear message when the interpreter is missing (never skips). */
    public static void requirePython() {
        if (!Files.isExecutable(PYTHON)) {
            throw new IllegalStateException(PYTHON + " is required by this integration test");
        }
    }

    /** Runs all scripts in one interpreter (each test still in a fresh namespace). */
    public static Map<String, Result> runInOneProcess(List<Script> scripts) {
        return runInProcesses(scripts, 1);
    }

    /**
     * Runs the scripts in {@code processes} interpreters at once, script i in interpreter i mod
     * {@code processes} (round robin spreads a slow task's neighbours over the others). Results are
     * in input order.
     */
    public static Map<String, Result> runInProcesses(List<Script> scripts, int processes) {
        int n = Math.max(1, Math.min(processes, scripts.size()));
        List<List<Script>> shares = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            shares.add(new ArrayList<>());
        }
        for (int i = 0; i < scripts.size(); i++) {
            shares.get(i % n).add(scripts.get(i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<List<Result>>> futures = new ArrayList<>();
            for (List<Script> share : shares) {
                futures.add(pool.submit(() -> run(share)));
            }
            Map<String, Result> byId = new LinkedHashMap<>();
            for (Future<List<Result>> f : futures) {
                for (Result r : f.get()) {
                    byId.put(r.id(), r);
                }
            }
            Map<String, Result> out = new LinkedHashMap<>();
            for (Script s : scripts) {
                out.put(s.id(), byId.get(s.id()));
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<Result> run(List<Script> scripts) {
        try {
            Process p =
                    new ProcessBuilder(PYTHON.toString(), "-I", "-c", DRIVER)
                            .redirectError(ProcessBuilder.Redirect.DISCARD)
                            .start();
            Thread feeder =
                    new Thread(
                            () -> {
                                try (Writer w =
                                        new OutputStreamWriter(
                                                p.getOutputStream(), StandardCharsets.UTF_8)) {
                                    for (Script s : scripts) {
                                        ObjectNode node = MAPPER.createObjectNode();
                                        node.put("id", s.id());
                                        node.put("code", s.code());
                                        node.put("setup", s.setup());
                                        node.putPOJO("tests", s.tests());
                                        w.write(MAPPER.writeValueAsString(node));
                                        w.write('\n');
                                    }
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            });
            feeder.start();
            Thread watchdog =
                    new Thread(
                            () -> {
                                try {
                                    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                                        p.destroyForcibly();
                                    }
                                } catch (InterruptedException e) {
                                    p.destroyForcibly();
                                }
                            });
            watchdog.setDaemon(true);
            watchdog.start();
            List<Result> results = new ArrayList<>();
            try (BufferedReader r =
                    new BufferedReader(
                            new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    JsonNode node = MAPPER.readTree(line);
                    List<String> errors = new ArrayList<>();
                    node.get("errors").forEach(e -> errors.add(e.isNull() ? null : e.asText()));
                    results.add(new Result(node.get("id").asText(), errors));
                }
            }
            feeder.join();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("python did not exit");
            }
            if (results.size() != scripts.size()) {
                throw new IllegalStateException(
                        "python exited with "
                                + p.exitValue()
                                + " after "
                                + results.size()
                                + " of "
                                + scripts.size()
                                + " tasks (killed after "
                                + TIMEOUT_SECONDS
                                + " s, or a task ended the interpreter)");
            }
            return results;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

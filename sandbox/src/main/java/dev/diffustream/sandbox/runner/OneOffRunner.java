package dev.diffustream.sandbox.runner;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.diffustream.sandbox.ExecutionRequest;
import dev.diffustream.sandbox.ExecutionResult;
import dev.diffustream.sandbox.SandboxConfig;
import dev.diffustream.sandbox.SandboxEngine;
import dev.diffustream.sandbox.TestCaseResult;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Executes one completion against a tests file and prints the result: the logic behind {@code
 * diffustream sandbox run --code FILE --tests FILE [--json]}, and how people debug a reward.
 *
 * <p>The completion file holds the model's text exactly as written (its fenced python block, the
 * newline after the closing fence: the format reward depends on every byte). The tests file holds
 * one Python test statement per line; blank lines and lines starting with {@code #} are skipped.
 */
public final class OneOffRunner {
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private OneOffRunner() {}

    /**
     * Runs the completion in a fresh one-slot engine and prints the result to {@code out}.
     *
     * @param setupFile optional code run before each test (MBPP style), or null
     * @param json print the result as JSON instead of a human-readable report
     * @return the result (the caller decides the exit status)
     * @throws IOException if a file cannot be read (the message names it)
     * @throws IllegalArgumentException if the tests file holds no test statement
     */
    public static ExecutionResult run(
            Path completionFile,
            Path testsFile,
            Path setupFile,
            SandboxConfig config,
            boolean json,
            PrintStream out)
            throws IOException {
        String completion = read(completionFile, "completion");
        List<String> tests = readTests(testsFile);
        String setup = setupFile == null ? "" : read(setupFile, "setup");
        ExecutionResult result;
        try (SandboxEngine engine = SandboxEngine.start(config.toBuilder().workers(1).build())) {
            result = engine.execute(new ExecutionRequest(completion, tests, setup));
        }
        out.println(json ? toJson(result) : toText(result, tests, config));
        return result;
    }

    private static String read(Path file, String what) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("the " + what + " file " + file + " does not exist");
        }
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    /** One test statement per line; blank lines and {@code #} comments are skipped. */
    public static List<String> readTests(Path testsFile) throws IOException {
        String text = read(testsFile, "tests");
        List<String> tests = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            String stripped = line.strip();
            if (!stripped.isEmpty() && !stripped.startsWith("#")) {
                tests.add(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
            }
        }
        if (tests.isEmpty()) {
            throw new IllegalArgumentException(
                    "the tests file " + testsFile + " holds no test statement (one per line)");
        }
        return tests;
    }

    /** The result as a JSON document (NaN rewards of a SANDBOX_ERROR are written as null). */
    public static String toJson(ExecutionResult r) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("outcome", r.outcome().name());
        doc.put("passed", r.passed());
        doc.put("total", r.total());
        doc.put("formatReward", finite(r.formatReward()));
        doc.put("codeReward", finite(r.codeReward()));
        doc.put("reward", finite(r.reward()));
        doc.put("durationMs", r.durationMs());
        doc.put("attempt", r.attempt());
        doc.put("sandboxId", r.sandboxId());
        doc.put("error", r.error());
        doc.put("detail", r.detail());
        List<Map<String, Object>> tests = new ArrayList<>();
        for (TestCaseResult t : r.tests()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", t.index());
            m.put("outcome", t.outcome().name());
            m.put("durationMs", t.durationMs());
            m.put("message", t.message());
            m.put("output", t.output());
            tests.add(m);
        }
        doc.put("tests", tests);
        try {
            return JSON.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** A human-readable report. */
    public static String toText(ExecutionResult r, List<String> tests, SandboxConfig config) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "outcome:  %s", r.outcome()));
        if (r.total() > 0) {
            b.append(String.format(Locale.ROOT, " (%d/%d tests passed)", r.passed(), r.total()));
        }
        b.append('\n');
        b.append(
                String.format(
                        Locale.ROOT,
                        "rewards:  format %s, code %s, total %s (weights: code %s, format %s)%n",
                        num(r.formatReward()),
                        num(r.codeReward()),
                        num(r.reward()),
                        num(config.weights().code()),
                        num(config.weights().format())));
        if (r.detail() != null) {
            b.append("detail:   ").append(r.detail()).append('\n');
        }
        if (r.error() != null) {
            b.append("error:    ").append(r.error()).append('\n');
        }
        for (TestCaseResult t : r.tests()) {
            String text = t.index() < tests.size() ? tests.get(t.index()).strip() : "";
            b.append(
                    String.format(
                            Locale.ROOT,
                            "test %-3d %-12s %6d ms  %s%n",
                            t.index(),
                            t.outcome(),
                            t.durationMs(),
                            abbreviate(text, 70)));
            if (t.message() != null) {
                b.append("         ").append(abbreviate(t.message(), 200)).append('\n');
            }
            if (!t.output().isEmpty()) {
                b.append("         output: ")
                        .append(abbreviate(t.output().replace("\n", "\\n"), 200))
                        .append('\n');
            }
        }
        b.append(
                String.format(
                        Locale.ROOT,
                        "duration: %d ms (attempt %d%s)",
                        r.durationMs(),
                        r.attempt(),
                        r.sandboxId().isEmpty() ? ", nothing executed" : ", " + r.sandboxId()));
        return b.toString();
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3g", v) : "n/a";
    }

    private static String abbreviate(String s, int max) {
        String one = s.replace("\r", "").replace("\n", " \\ ");
        return one.length() <= max ? one : one.substring(0, max - 3) + "...";
    }
}

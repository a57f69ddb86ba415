package dev.diffustream.sandbox;

import static dev.diffustream.sandbox.SandboxTestSupport.py;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.schemas.avro.Outcome;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real, independent data (see {@code data/README.md}): every HumanEval canonical solution and every
 * MBPP reference except tasks 341, 596 and 642 (broken in this revision of the file) must pass
 * inside the sandbox, with strict equality off as in the release; and strict equality must not
 * change any of those verdicts.
 */
class RealDataIT {
    private static final Logger LOG = LoggerFactory.getLogger(RealDataIT.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int UID_BASE = 64300;

    record Item(String id, ExecutionRequest request) {}

    private static Path data() {
        String root = System.getProperty("diffustream.root");
        assertThat(root)
                .as("system property diffustream.root (set by surefire/failsafe)")
                .isNotNull();
        return Path.of(root).resolve("data").normalize();
    }

    private static List<JsonNode> jsonLines(InputStream in) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        try (BufferedReader r =
                new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isBlank()) {
                    rows.add(JSON.readTree(line));
                }
            }
        }
        return rows;
    }

    static List<Item> humanEval() throws IOException {
        List<Item> items = new ArrayList<>();
        try (InputStream in =
                new GZIPInputStream(Files.newInputStream(data().resolve("HumanEval.jsonl.gz")))) {
            for (JsonNode row : jsonLines(in)) {
                String code = row.get("prompt").asText() + row.get("canonical_solution").asText();
                String test =
                        row.get("test").asText()
                                + "\ncheck("
                                + row.get("entry_point").asText()
                                + ")\n";
                items.add(
                        new Item(
                                row.get("task_id").asText(),
                                new ExecutionRequest(py(code), List.of(test))));
            }
        }
        return items;
    }

    static List<Item> mbpp() throws IOException {
        List<Item> items = new ArrayList<>();
        for (JsonNode row : jsonLines(Files.newInputStream(data().resolve("mbpp.jsonl")))) {
            List<String> tests = new ArrayList<>();
            row.get("test_list").forEach(t -> tests.add(t.asText()));
            items.add(
                    new Item(
                            row.get("task_id").asText(),
                            new ExecutionRequest(
                                    py(row.get("code").asText()),
                                    tests,
                                    row.path("test_setup_code").asText(""))));
        }
        return items;
    }

    /** Runs every item with {@code workers} concurrent callers; returns the results by id. */
    static Map<String, ExecutionResult> runAll(SandboxEngine engine, List<Item> items)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(engine.workers());
        try {
            Map<String, Future<ExecutionResult>> futures = new TreeMap<>();
            for (Item item : items) {
                futures.put(item.id(), pool.submit(() -> engine.execute(item.request())));
            }
            Map<String, ExecutionResult> results = new TreeMap<>();
            for (Map.Entry<String, Future<ExecutionResult>> e : futures.entrySet()) {
                results.put(e.getKey(), e.getValue().get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<String> notPassed(Map<String, ExecutionResult> results) {
        List<String> ids = new ArrayList<>();
        results.forEach(
                (id, r) -> {
                    if (r.outcome() != Outcome.PASSED) {
                        ids.add(id);
                        LOG.info("{}: {} {}", id, r.outcome(), r.tests());
                    }
                });
        return ids;
    }

    /**
     * Generous time limits: this checks semantics, and a few references (MBPP 123 sums amicable
     * numbers below 10^4 in O(n^2)) need seconds of CPU that a shared 2-core machine may not give
     * them within spec B's 5 s.
     */
    private static SandboxConfig config(boolean strict) {
        return SandboxConfig.defaults().toBuilder()
                .workers(Math.max(2, Runtime.getRuntime().availableProcessors()))
                .uidBase(UID_BASE)
                .strictEquality(strict)
                .testTimeoutSeconds(60)
                .cpuTimeSeconds(60)
                .executionTimeoutSeconds(300)
                .build();
    }

    @Test
    void shouldPassEveryHumanEvalCanonicalSolutionWithAndWithoutStrictEquality() throws Exception {
        // given the 164 HumanEval problems, code = prompt + canonical solution
        List<Item> items = humanEval();
        assertThat(items).hasSize(164);

        for (boolean strict : new boolean[] {false, true}) {
            // when
            Map<String, ExecutionResult> results;
            try (SandboxEngine engine = SandboxEngine.start(config(strict))) {
                results = runAll(engine, items);
            }

            // then
            assertThat(notPassed(results)).as("HumanEval not passed, strict=%s", strict).isEmpty();
            assertThat(results.values()).allSatisfy(r -> assertThat(r.reward()).isEqualTo(2.5));
        }
    }

    @Test
    void shouldPassEveryMbppReferenceButTheThreeBrokenOnesWithAndWithoutStrictEquality()
            throws Exception {
        // given the 974 MBPP problems (CRLF line endings, tabs, setup code)
        List<Item> items = mbpp();
        assertThat(items).hasSize(974);

        for (boolean strict : new boolean[] {false, true}) {
            // when
            Map<String, ExecutionResult> results;
            try (SandboxEngine engine = SandboxEngine.start(config(strict))) {
                results = runAll(engine, items);
            }

            // then exactly the three tasks broken in this revision fail, and not for lack of time
            assertThat(notPassed(results))
                    .as("MBPP not passed, strict=%s", strict)
                    .containsExactly("341", "596", "642");
            for (String id : List.of("341", "596", "642")) {
                assertThat(results.get(id).outcome())
                        .isIn(Outcome.PARTIAL, Outcome.FAILED, Outcome.RUNTIME_ERROR);
            }
        }
    }
}

package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.registry.RestSchemaRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code diffustream infra} as a real subprocess: addresses, clean stop, no orphan broker. */
class InfraCommandIT {

    @TempDir Path tmp;

    /** A running {@code diffustream infra} process and what it printed. */
    record Infra(
            Process process,
            String bootstrap,
            String registry,
            Duration ready,
            List<String> stderr,
            CompletableFuture<Void> stderrDone) {
        ProcessHandle broker() {
            return process.toHandle()
                    .children()
                    .filter(
                            c ->
                                    c.info()
                                            .commandLine()
                                            .orElse("")
                                            .contains("-Ddiffustream.broker.dir="))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no broker child of " + process.pid()));
        }
    }

    private static Infra start(Path dataDir) throws Exception {
        List<String> cmd =
                List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "infra",
                        "--kafka-port",
                        "0",
                        "--registry-port",
                        "0",
                        "--data-dir",
                        dataDir.toString(),
                        "--prefix",
                        "infra-it.");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).start();
        List<String> stderr = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> stderrDone = CompletableFuture.runAsync(() -> drain(p, stderr));
        BufferedReader out =
                new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String[]> lines =
                CompletableFuture.supplyAsync(
                        () -> {
                            String bootstrap = null;
                            String registry = null;
                            try {
                                String line;
                                while ((bootstrap == null || registry == null)
                                        && (line = out.readLine()) != null) {
                                    if (line.startsWith("bootstrap=")) {
                                        bootstrap = line.substring("bootstrap=".length());
                                    } else if (line.startsWith("registry=")) {
                                        registry = line.substring("registry=".length());
                                    }
                                }
                            } catch (IOException e) {
                                throw new IllegalStateException(e);
                            }
                            return new String[] {bootstrap, registry};
                        });
        String[] addresses;
        try {
            addresses = lines.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            p.destroyForcibly();
            throw new AssertionError(
                    "no address lines within 60 s; stderr:\n" + String.join("\n", stderr));
        }
        assertThat(addresses[0]).as("bootstrap line; stderr: " + stderr).isNotNull();
        assertThat(addresses[1]).as("registry line; stderr: " + stderr).isNotNull();
        return new Infra(
                p,
                addresses[0],
                addresses[1],
                Duration.ofNanos(System.nanoTime() - t0),
                stderr,
                stderrDone);
    }

    private static void drain(Process p, List<String> into) {
        try (BufferedReader r =
                new BufferedReader(
                        new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                into.add(line);
            }
        } catch (IOException e) {
            // process gone
        }
    }

    private static boolean gone(ProcessHandle h, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (h.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        return !h.isAlive();
    }

    @Test
    void shouldPrintTheAddressesStopCleanlyAndKeepSchemaIdsAcrossARestart() throws Exception {
        Path data = tmp.resolve("infra-data");
        Schema schema =
                SchemaBuilder.record("Probe")
                        .namespace("it")
                        .fields()
                        .requiredString("id")
                        .endRecord();

        // given infra started as a subprocess
        Infra first = start(data);
        try {
            exercise(first, data, schema);
        } finally {
            first.process().destroyForcibly();
        }
    }

    private void exercise(Infra first, Path data, Schema schema) throws Exception {
        System.out.println("infra printed its addresses after " + first.ready().toMillis() + " ms");
        ProcessHandle broker = first.broker();
        assertThat(broker.isAlive()).isTrue();
        assertThat(first.bootstrap()).startsWith("localhost:");
        assertThat(first.registry()).startsWith("http://localhost:");

        // then the run's topics exist and the registry answers
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", first.bootstrap()))) {
            Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            Topics.ALL.forEach(d -> assertThat(names).contains(d.name("infra-it.")));
        }
        int id = new RestSchemaRegistry(first.registry()).register("probe-value", schema);

        // when it gets SIGTERM (through the handle: Process.destroy() would also close our pipes)
        first.process().toHandle().destroy();

        // then it exits, and so does its broker
        assertThat(first.process().waitFor(60, TimeUnit.SECONDS))
                .as("infra exits on SIGTERM")
                .isTrue();
        assertThat(gone(broker, Duration.ofSeconds(30)))
                .as("broker " + broker.pid() + " gone")
                .isTrue();
        first.stderrDone().get(10, TimeUnit.SECONDS);
        assertThat(first.stderr())
                .anySatisfy(l -> assertThat(l).contains("diffustream infra: stopped"));
        assertThat(data.resolve("kafka-logs")).isDirectory();

        // when started again on the same data directory
        Infra second = start(data);
        ProcessHandle broker2 = second.broker();
        try {
            // then the registry still knows the schema under the same id
            RestSchemaRegistry registry = new RestSchemaRegistry(second.registry());
            assertThat(registry.latest("probe-value").id()).isEqualTo(id);
            assertThat(registry.schemaById(id)).isEqualTo(schema);
            assertThat(second.stderr())
                    .anySatisfy(l -> assertThat(l).contains("0 topic(s) created, 8 already there"));
        } finally {
            // when the infra process is killed with SIGKILL (no shutdown hook runs)
            second.process().destroyForcibly();
            second.process().waitFor(30, TimeUnit.SECONDS);
        }

        // then its broker notices and exits by itself: no orphan JVM
        assertThat(gone(broker2, Duration.ofSeconds(30)))
                .as("orphaned broker " + broker2.pid() + " exits")
                .isTrue();
        Optional<ProcessHandle> leftover =
                ProcessHandle.allProcesses()
                        .filter(h -> h.info().commandLine().orElse("").contains(data.toString()))
                        .findAny();
        assertThat(leftover).as("no process of ours left").isEmpty();
        assertThat(Files.isDirectory(data)).isTrue();
    }
}

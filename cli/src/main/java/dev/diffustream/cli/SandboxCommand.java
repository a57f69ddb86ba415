package dev.diffustream.cli;

import dev.diffustream.infra.config.ConfigLoader.Loaded;
import dev.diffustream.sandbox.ExecutionResult;
import dev.diffustream.sandbox.SandboxEngine;
import dev.diffustream.sandbox.runner.OneOffRunner;
import dev.diffustream.sandbox.service.SandboxService;
import dev.diffustream.schemas.avro.Outcome;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffustream sandbox}: the sandbox service, and {@code sandbox run} for one program. */
@Command(
        name = "sandbox",
        description =
                "Executes completions against their tests in isolation (consumer group"
                        + " sandboxes-<run>) and publishes typed Executions, exactly once. Scale by"
                        + " starting more sandbox processes.",
        subcommands = SandboxCommand.Run.class)
final class SandboxCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--id",
            paramLabel = "ID",
            description =
                    "Instance id (transactional id): unique among running sandboxes, stable across"
                            + " restarts of one instance. Default: sandbox-<host>-<pid>.")
    String id;

    @Override
    public Integer call() throws Exception {
        Loaded<Recipe> loaded = Main.of(spec).loadedRecipe();
        Recipe r = loaded.value();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, Record> sections = new LinkedHashMap<>();
        sections.put("sandbox", r.sandbox());
        Startup.print(err, "sandbox", r, loaded.sha256(), sections);
        KafkaAccess.preflight("sandbox", r.kafka(), KafkaAccess.SERVICE_WAIT, err);
        String instance =
                id != null
                        ? id
                        : "sandbox-"
                                + ManagementFactory.getRuntimeMXBean().getName().replace('@', '-');
        try (ServiceLoop loop = ServiceLoop.open("sandbox");
                RunContext ctx = new RunContext(r);
                SandboxEngine engine = SandboxEngine.start(r.sandbox())) {
            SandboxService service =
                    new SandboxService(r.kafka(), r.run().id(), ctx.topics(), engine, instance);
            loop.run(service, service::run);
        }
        return 0;
    }

    /** {@code diffustream sandbox run --code FILE --tests FILE [--json]}. */
    @Command(
            name = "run",
            description =
                    "Executes one completion (the model's text, with its ```python block) against a"
                            + " tests file (one Python test statement per line) and prints the"
                            + " Execution: outcome, per-test results, rewards, duration. Exit code 0"
                            + " when every test passed, 1 otherwise.")
    static final class Run implements Callable<Integer> {

        @Spec CommandSpec spec;

        @Option(
                names = "--code",
                required = true,
                paramLabel = "FILE",
                description = "Completion text as the model wrote it.")
        Path code;

        @Option(
                names = "--tests",
                required = true,
                paramLabel = "FILE",
                description = "Test statements, one per line (# comments and blanks skipped).")
        Path tests;

        @Option(
                names = "--setup",
                paramLabel = "FILE",
                description = "Code run before each test (MBPP test_setup_code).")
        Path setup;

        @Option(names = "--json", description = "Print the Execution as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            Recipe r = Main.of(spec).recipe();
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            ExecutionResult result = OneOffRunner.run(code, tests, setup, r.sandbox(), json, out);
            return result.outcome() == Outcome.PASSED ? 0 : 1;
        }
    }
}

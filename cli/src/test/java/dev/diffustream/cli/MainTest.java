package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.policy.tasks.TaskDataException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {

    @TempDir Path tmp;

    /** Runs the command line in-process; returns exit code, stdout and stderr. */
    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code =
                Main.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                        .execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    record Result(int code, String out, String err) {}

    @Test
    void shouldListTheSubcommandsInItsHelp() {
        Result r = run("--help");
        assertThat(r.code()).isZero();
        assertThat(r.out())
                .contains(
                        "infra",
                        "topics",
                        "config",
                        "--recipe",
                        "--bootstrap",
                        "--registry",
                        "--prefix",
                        "--verbose");
    }

    @Test
    void shouldPrintEverySubcommandsUsageForHelp() {
        // given every subcommand at any depth (local, bench policy, topics tail, ...)
        List<String> paths = new ArrayList<>();
        collect(
                Main.newCommandLine(
                        new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())),
                "",
                paths);
        assertThat(paths).contains("local", "eval", "bench policy", "sandbox run");

        for (String path : paths) {
            // when it is asked for help, even one with required options
            String[] args = (path + " --help").split(" ");
            Result r = run(args);

            // then it prints its own usage and exits 0
            assertThat(r.code())
                    .as("exit code of diffustream %s --help: %s", path, r.err())
                    .isZero();
            assertThat(r.out()).as(path).startsWith("Usage: diffustream " + path + " ");
            assertThat(run((path + " -h").split(" ")).code()).as(path + " -h").isZero();
        }
    }

    private static void collect(CommandLine cmd, String prefix, List<String> out) {
        for (var e : cmd.getSubcommands().entrySet()) {
            // aliases appear twice; picocli's own help command answers --help with the root usage
            if (e.getValue().getCommandSpec().name().equals(e.getKey())
                    && !e.getValue().getCommandSpec().helpCommand()) {
                String path = prefix + e.getKey();
                out.add(path);
                collect(e.getValue(), path + " ", out);
            }
        }
    }

    @Test
    void shouldPrintInputErrorsWithoutExceptionClassNames() {
        // a task file that is not there, and a directory that is not a checkpoint
        assertThat(Main.message(new TaskDataException(Path.of("/t.jsonl"), 3, "bad JSON")))
                .isEqualTo("/t.jsonl:3: bad JSON");
        assertThat(Main.message(new IOException("/tmp holds no weights")))
                .isEqualTo("/tmp holds no weights");
        // an I/O subclass keeps its name: NoSuchFileException's message is the path alone
        assertThat(Main.message(new NoSuchFileException("/x")))
                .startsWith("java.nio.file.NoSuchFileException: /x")
                .endsWith("(run with --verbose for details)");
    }

    @Test
    void shouldNameTheEstimatorsWhenLocalIsGivenAnUnknownOne() throws Exception {
        // given a recipe (local mode reads one before it applies its own options)
        Path recipe = tmp.resolve("r.yaml");
        Files.writeString(recipe, "run:\n  id: demo\n");

        Result r = run("local", "--recipe", recipe.toString(), "--estimator", "d2");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip())
                .isEqualTo(
                        "diffustream: option --estimator: 'grpo.estimator': expected one of"
                                + " COUPLED|D1|DECOUPLED, got 'd2'");
    }

    @Test
    void shouldNameTheRecipeSourceSoThatMissingRecipeIsVisible() {
        // given command lines with and without --recipe
        var with =
                Main.newCommandLine(
                        new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        with.parseArgs("--recipe", "recipes/local.yaml", "config");
        var without =
                Main.newCommandLine(
                        new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        without.parseArgs("config");

        // then the source line names the file, or says that the defaults are in use
        assertThat(((Main) with.getCommand()).recipeSource())
                .isEqualTo("recipe recipes/local.yaml");
        assertThat(((Main) without.getCommand()).recipeSource())
                .startsWith("built-in defaults (no --recipe");
    }

    @Test
    void shouldDescribeEveryRecipeKey() {
        Result r = run("config", "--describe");
        assertThat(r.code()).isZero();
        assertThat(r.out())
                .contains(
                        "kafka.partitions  (integer, default 4)",
                        "run.seed",
                        "rewards.code",
                        "DIFFUSTREAM_KAFKA_BOOTSTRAP");
        assertThat(run("config", "--describe", "--format", "markdown").out())
                .startsWith("| key | type | default | description |");
    }

    @Test
    void shouldPrintTheResolvedRecipeWithFileAndOptionsApplied() throws Exception {
        // given a recipe file
        Path recipe = tmp.resolve("r.yaml");
        Files.writeString(recipe, "run:\n  id: demo\nkafka:\n  partitions: 2\n");

        // when printed with global options before and after the subcommand
        Result before = run("--recipe", recipe.toString(), "--prefix", "p1.", "config", "--print");
        Result after =
                run(
                        "config",
                        "--print",
                        "--recipe",
                        recipe.toString(),
                        "--set",
                        "rewards.format=0.25",
                        "--bootstrap",
                        "h:1");

        // then file and options are applied, whatever their position
        assertThat(before.code()).isZero();
        assertThat(before.out())
                .contains("id: demo", "partitions: 2", "topicPrefix: p1.")
                .containsPattern("# resolved recipe .*r.yaml, sha256 [0-9a-f]{64}");
        assertThat(after.out()).contains("id: demo", "format: 0.25", "bootstrap: h:1");
    }

    @Test
    void shouldPrintOneLineWithFileLineAndKeyWhenTheRecipeIsWrong() throws Exception {
        // given a recipe with a misspelt key
        Path recipe = tmp.resolve("bad.yaml");
        Files.writeString(recipe, "kafka:\n  partitons: 2\n");

        // when used
        Result r = run("config", "--print", "--recipe", recipe.toString());

        // then one line names the file, the line and the key, and the exit code is 1
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip())
                .isEqualTo(
                        "diffustream: "
                                + recipe
                                + ":2: unknown key 'kafka.partitons' (did you mean 'partitions'?)");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void shouldShowAStackTraceOnlyWithVerbose() throws Exception {
        Path recipe = tmp.resolve("bad.yaml");
        Files.writeString(recipe, "kafka: [1]\n");
        assertThat(run("config", "--recipe", recipe.toString()).err()).doesNotContain("\tat ");
        assertThat(run("config", "--recipe", recipe.toString(), "--verbose").err())
                .contains("\tat dev.diffustream");
    }

    @Test
    void shouldListTheKnownTopicsWhenATopicIsUnknown() {
        Result r = run("topics", "produce", "taks", "--bootstrap", "localhost:1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip())
                .isEqualTo(
                        "diffustream: unknown topic 'taks'; known topics: tasks, completions, executions, advantages, checkpoints, train-steps, metrics, dead-letters");
    }

    @Test
    void shouldRejectABadSettingNamingTheOption() {
        Result r = run("config", "--set", "kafka.partitions=many");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err())
                .contains(
                        "option --set kafka.partitions: 'kafka.partitions': expected integer, got 'many'");
        assertThat(run("config", "--set", "nonsense").err()).contains("expected KEY=VALUE");
    }

    @Test
    void shouldTakeThePortsOfTheRecipeAddressesForInfra() {
        assertThat(InfraCommand.portOf("localhost:19092", 9092)).isEqualTo(19092);
        assertThat(InfraCommand.portOf("a:1,b:2", 9092)).isEqualTo(1);
        assertThat(InfraCommand.portOf("http://localhost:18081", 8081)).isEqualTo(18081);
        assertThat(InfraCommand.portOf("http://registry", 8081)).isEqualTo(8081);
    }
}

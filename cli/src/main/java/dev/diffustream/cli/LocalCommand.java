package dev.diffustream.cli;

import dev.diffustream.infra.config.ConfigLoader.Loaded;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffustream local}: the whole pipeline on this machine (the README's main job). */
@Command(
        name = "local",
        description = {
            "Runs the whole pipeline locally: a real Kafka broker and the registry stand-in, the tiny"
                    + " model pretrained (or reused from the cache), the held-out baseline, then the"
                    + " feeder, actors, sandboxes, the advantage topology, the learner and an"
                    + " evaluator until --minutes or --steps; ends with a final held-out evaluation"
                    + " and a run directory (recipe, checkpoints, metrics CSV/JSON, PNG plots,"
                    + " summary.json, and the broker's data in kafka/ for replay and rescore).",
            "Default recipe: recipes/local.yaml."
        })
final class LocalCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--minutes",
            paramLabel = "M",
            defaultValue = "30",
            description =
                    "Wall-clock budget of the RL phase in minutes (default ${DEFAULT-VALUE}).")
    double minutes;

    @Option(
            names = "--steps",
            paramLabel = "N",
            defaultValue = "0",
            description = "Stop after N learner steps (default 0: only --minutes).")
    long steps;

    @Option(
            names = "--sync",
            description =
                    "Synchronous (on-policy, the release's loop): the feeder releases one batch at a"
                            + " time and actors sample with the newest checkpoint only.")
    boolean sync;

    @Option(
            names = "--estimator",
            paramLabel = "KIND",
            description = "Log-prob estimator: coupled (default), d1 or decoupled.")
    String estimator;

    @Option(
            names = "--run-id",
            paramLabel = "ID",
            description = "Run id (default run.id, or local-<timestamp> when that is 'local').")
    String runId;

    @Option(
            names = "--actors",
            paramLabel = "N",
            defaultValue = "2",
            description = "Actors (default ${DEFAULT-VALUE}).")
    int actors;

    @Option(
            names = "--sandboxes",
            paramLabel = "N",
            defaultValue = "2",
            description = "Sandbox workers (default ${DEFAULT-VALUE}).")
    int sandboxes;

    @Option(
            names = "--cache",
            paramLabel = "DIR",
            description =
                    "Cache of pretrained models and baselines (default $DIFFUSTREAM_CACHE or"
                            + " ~/.cache/diffustream).")
    Path cache;

    @Option(
            names = "--discard-kafka",
            description =
                    "Delete the broker's data (RUN/kafka) and the topology's local state"
                            + " (RUN/streams-state) at the end. By default both are kept: the"
                            + " topics are the run's system of record ('diffustream replay --run"
                            + " RUN' and 'rescore' start a broker on it).")
    boolean discardKafka;

    /** Accepted for old scripts: keeping the data is the default now. */
    @Option(names = "--keep-kafka", hidden = true)
    boolean keepKafka;

    @Option(
            names = "--status-every",
            paramLabel = "SECONDS",
            defaultValue = "10",
            description = "Seconds between status lines (default ${DEFAULT-VALUE}).")
    int statusEvery;

    @Override
    public Integer call() throws Exception {
        Main main = Main.of(spec);
        if (main.recipeFile == null) {
            main.recipeFile = defaultRecipe();
        }
        String id = runId;
        if (id == null) {
            Loaded<Recipe> probe = main.loadedRecipe();
            id =
                    probe.value().run().id().equals("local")
                            ? "local-"
                                    + LocalDateTime.now()
                                            .format(
                                                    DateTimeFormatter.ofPattern(
                                                            "yyyyMMdd-HHmmss", Locale.ROOT))
                            : probe.value().run().id();
        }
        main.setFromOption("--run-id", "run.id", id);
        if (estimator != null) {
            main.setFromOption("--estimator", "grpo.estimator", estimator);
        }
        if (sync) {
            main.setFromOption("--sync", "actor.sync", "true");
        }
        if (steps > 0) {
            main.setFromOption("--steps", "learner.maxSteps", String.valueOf(steps));
        }
        main.resetRecipe();
        Loaded<Recipe> loaded = main.loadedRecipe();
        Recipe r = loaded.value();
        if (sync) {
            // one batch in flight: the feeder releases the next B tasks once the learner has
            // settled the previous ones (and committed their checkpoint)
            main.setFromOption(
                    "--sync", "feeder.maxAheadGroups", String.valueOf(r.learner().batchGroups()));
            main.resetRecipe();
            loaded = main.loadedRecipe();
        }
        PrintWriter err = spec.commandLine().getErr();
        Path cacheDir =
                cache != null
                        ? cache
                        : System.getenv("DIFFUSTREAM_CACHE") != null
                                ? Path.of(System.getenv("DIFFUSTREAM_CACHE"))
                                : Path.of(System.getProperty("user.home"), ".cache", "diffustream");
        LocalRun.Options opts =
                new LocalRun.Options(
                        minutes,
                        steps,
                        actors,
                        sandboxes,
                        sync,
                        cacheDir,
                        !discardKafka,
                        statusEvery);
        LocalRun.Summary s = new LocalRun(loaded, opts, err).run();
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "run            %s (%s)%n", s.runId(), s.runDir());
        out.printf(
                Locale.ROOT,
                "held-out pass@1  %.3f -> %.3f (%+.1f points)%n",
                s.baselinePassAt1(),
                s.finalPassAt1(),
                100 * (s.finalPassAt1() - s.baselinePassAt1()));
        out.printf(
                Locale.ROOT,
                "format-valid     %.3f -> %.3f%n",
                s.baselineFormatValid(),
                s.finalFormatValid());
        out.printf(
                Locale.ROOT,
                "learner          %d steps, policy v%d, %.2f steps/min over %.1f min (%s, %s)%n",
                s.steps(),
                s.version(),
                s.stepsPerMinute(),
                s.rlSeconds() / 60,
                s.estimator(),
                s.sync() ? "sync" : "async");
        out.printf(
                Locale.ROOT,
                "artifacts        %s/{summary.json,metrics.csv,metrics.json,train_steps.csv,"
                        + "plots/reward.png,plots/heldout_pass1.png,checkpoints/%s}%n",
                s.runDir(),
                discardKafka ? "" : ",kafka/");
        out.flush();
        return 0;
    }

    /** recipes/local.yaml under the installation (launcher) or the working directory. */
    static Path defaultRecipe() {
        String home = System.getProperty("diffustream.home");
        Path p = Path.of(home != null ? home : ".").resolve("recipes").resolve("local.yaml");
        if (!Files.isRegularFile(p)) {
            throw new CliException("default recipe " + p + " not found; pass --recipe FILE");
        }
        return p;
    }
}

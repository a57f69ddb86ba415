package dev.diffustream.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.cli.Main;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuites;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole loop through local mode ({@code diffustream local}, in-process): its own broker and
 * registry, pretraining of a tiny model (10 steps, into a fresh cache), the held-out baseline,
 * feeder, two actors, two sandboxes, streams, learner and evaluator for a few steps, the final
 * held-out evaluation and the run directory. Uses {@code recipes/local.yaml} scaled down with
 * {@code --set}, so the shipped recipe is what runs.
 */
class LocalModeIT {

    /** S: the run stops after this many learner steps (4 batches of I = 2). */
    private static final int STEPS = 8;

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path tmp;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void shouldWriteTheRunDirectoryWithBothEvaluationsWhenLocalModeRunsAFewSteps()
            throws Exception {
        // given the local recipe with a tiny model, a fresh cache and a small held-out curve
        Path runs = tmp.resolve("runs");
        Path cache = tmp.resolve("cache");
        List<String> args = tinyLocalRun("e2e", runs, cache, STEPS, 2.5, 15);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        // when
        long t0 = System.nanoTime();
        int code =
                Main.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                        .execute(args.toArray(String[]::new));
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "LocalModeIT: local run took %.0f s%n%s%n", seconds, out);

        // then it ends well and says what it measured
        assertThat(code).as("exit code; stderr:%n%s", err).isZero();
        assertThat(out.toString()).contains("held-out pass@1").contains("learner ");

        // and the run directory holds the resolved recipe, metrics, steps, plots, checkpoints
        Path runDir = runs.resolve("e2e");
        for (String f :
                List.of(
                        "recipe.yaml",
                        "summary.json",
                        "metrics.csv",
                        "metrics.json",
                        "train_steps.csv",
                        "eval-final.json")) {
            assertThat(runDir.resolve(f)).as(f).isNotEmptyFile();
        }
        assertThat(Files.readString(runDir.resolve("recipe.yaml")))
                .as("the resolved recipe, with the --set values")
                .contains("batchGroups: 2")
                .contains("hiddenSize: 32");

        JsonNode summary = JSON.readTree(runDir.resolve("summary.json").toFile());
        long steps = summary.get("steps").asLong();
        assertThat(steps).as("learner steps").isPositive().isLessThanOrEqualTo(STEPS);
        assertThat(summary.get("version").asLong()).as("policy version").isPositive();
        // the held-out evaluation ran: the baseline and the final one, on the full split
        int heldOut = TaskSuites.open("builtin").load(TaskSplit.HELDOUT).size();
        assertThat(summary.get("baselinePassAt1").asDouble()).isBetween(0.0, 1.0);
        assertThat(summary.get("finalPassAt1").asDouble()).isBetween(0.0, 1.0);
        assertThat(summary.get("heldOutCurve")).as("held-out curve points").isNotEmpty();
        JsonNode finalEval = JSON.readTree(runDir.resolve("eval-final.json").toFile());
        assertThat(finalEval.get("tasks").asInt()).isEqualTo(heldOut);

        // the step table has one row per step, numbered 1..S
        List<String> rows = Files.readAllLines(runDir.resolve("train_steps.csv"));
        assertThat(rows.get(0)).startsWith("step,batch,iteration,");
        assertThat(rows.subList(1, rows.size()).stream().map(r -> r.split(",")[0]))
                .containsExactlyElementsOf(
                        Stream.iterate(1L, i -> i + 1).limit(steps).map(String::valueOf).toList());
        // the metrics hold the learner's losses and both held-out evaluations
        String metrics = Files.readString(runDir.resolve("metrics.csv"), StandardCharsets.UTF_8);
        assertThat(metrics)
                .contains(",learner,losses/total,")
                .contains(",eval/heldout_pass@1,")
                .contains(",eval/heldout_pass@1_final,");

        // the plots are real PNG images
        for (String plot : List.of("plots/reward.png", "plots/heldout_pass1.png")) {
            BufferedImage img = ImageIO.read(runDir.resolve(plot).toFile());
            assertThat(img).as(plot).isNotNull();
            assertThat(img.getWidth()).as(plot).isGreaterThan(100);
        }

        // the initial and at least one trained checkpoint, in HF layout
        Path checkpoints = runDir.resolve("checkpoints");
        assertThat(checkpoints.resolve("v000000/config.json")).isRegularFile();
        assertThat(
                        checkpoints
                                .resolve(
                                        String.format(
                                                Locale.ROOT,
                                                "v%06d",
                                                summary.get("version").asLong()))
                                .resolve("model.safetensors"))
                .isRegularFile();

        // and the pretrained model and its baseline are cached for the next run
        try (Stream<Path> cached = Files.walk(cache)) {
            List<String> names = cached.map(p -> p.getFileName().toString()).toList();
            assertThat(names).contains("config.json").anyMatch(n -> n.startsWith("baseline-eval-"));
        }

        // and replaying the run from its kept topics (RUN/kafka) gives the same weights, bit for
        // bit
        StringWriter rOut = new StringWriter();
        StringWriter rErr = new StringWriter();
        Path report = tmp.resolve("replay.json");
        int rCode =
                Main.newCommandLine(new PrintWriter(rOut, true), new PrintWriter(rErr, true))
                        .execute(
                                "replay",
                                "--run",
                                runDir.toString(),
                                "--report",
                                report.toString());
        System.out.printf(Locale.ROOT, "LocalModeIT: replay%n%s%n", rOut);
        assertThat(rCode).as("replay exit code; stderr:%n%s", rErr).isZero();
        JsonNode rep = JSON.readTree(report.toFile());
        assertThat(rep.get("outcome").asText()).isEqualTo("IDENTICAL");
        assertThat(rep.get("stepsReplayed").asLong()).isBetween(1L, steps);
        assertThat(rep.get("checkpoints")).as("checkpoints compared").isNotEmpty();
        List<String> hashes = new ArrayList<>();
        for (JsonNode c : rep.get("checkpoints")) {
            assertThat(c.get("verdict").asText()).as(c.toString()).isEqualTo("IDENTICAL");
            hashes.add(c.get("replayedSha256").asText());
        }
        assertThat(hashes).as("every checkpoint holds other weights").doesNotHaveDuplicates();

        // and re-scoring the recorded completions and executions with the run's own configuration
        // into new topics reproduces every advantage the run computed
        StringWriter sOut = new StringWriter();
        StringWriter sErr = new StringWriter();
        Path rescore = tmp.resolve("rescore.json");
        int sCode =
                Main.newCommandLine(new PrintWriter(sOut, true), new PrintWriter(sErr, true))
                        .execute(
                                "rescore",
                                "--run",
                                runDir.toString(),
                                "--into",
                                "same.",
                                "--timeout",
                                "3m",
                                "--report",
                                rescore.toString());
        System.out.printf(Locale.ROOT, "LocalModeIT: rescore%n%s%n", sOut);
        assertThat(sCode).as("rescore exit code; stderr:%n%s", sErr).isZero();
        JsonNode cmp = JSON.readTree(rescore.toFile()).get("comparison");
        assertThat(cmp.get("matched").asInt()).as(cmp.toString()).isPositive();
        assertThat(cmp.get("changed").asInt()).as(cmp.toString()).isZero();
        assertThat(cmp.get("maxAbsAdvantageChange").asDouble()).as(cmp.toString()).isZero();
    }

    /**
     * {@code local} with {@code recipes/local.yaml} scaled down to a tiny model: 10 pretraining
     * steps, 8 diffusion steps, G = 4, batches of 2 groups, an 8-task held-out curve.
     */
    private List<String> tinyLocalRun(
            String runId, Path runs, Path cache, int steps, double minutes, int statusEvery) {
        Path root = Path.of(System.getProperty("diffustream.root", "..")).toAbsolutePath();
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "local",
                                "--recipe",
                                root.resolve("recipes/local.yaml").toString(),
                                "--run-id",
                                runId,
                                "--cache",
                                cache.toString(),
                                "--steps",
                                Integer.toString(steps),
                                "--minutes",
                                Double.toString(minutes),
                                "--status-every",
                                Integer.toString(statusEvery)));
        for (String s :
                List.of(
                        "run.dir=" + runs,
                        "model.hiddenSize=32",
                        "model.intermediateSize=64",
                        "model.numHiddenLayers=1",
                        "model.numAttentionHeads=2",
                        "model.numKeyValueHeads=1",
                        "pretrain.steps=10",
                        "pretrain.evalTasks=0",
                        "sampler.steps=8",
                        "grpo.numGenerations=4",
                        // ten pretraining steps earn no reward yet: train on 0-variance groups
                        "advantages.zeroVariance=keep",
                        // zero advantages leave the weights alone: weight decay moves them, and
                        // once they leave the reference the KL term's gradient flows through the
                        // coupled estimator with the recorded mask seeds (what replay must redo)
                        "grpo.weightDecay=0.1",
                        "grpo.learningRate=1e-3",
                        // a state directory of its own (a stale one under /tmp would be reused)
                        "advantages.stateDir=" + tmp.resolve("streams-state-" + runId),
                        "learner.batchGroups=2",
                        "feeder.maxAheadGroups=4",
                        "eval.tasks=8",
                        "eval.everyVersions=2")) {
            args.add("--set");
            args.add(s);
        }
        return args;
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void shouldSayThatPretrainingResumesWhenInterruptedWhilePretraining() throws Exception {
        // given a local run whose pretraining is long and saves its state every 20 steps
        Path cache = tmp.resolve("cache");
        List<String> args = tinyLocalRun("pretraining", tmp.resolve("runs"), cache, 0, 10, 1);
        args.addAll(
                List.of("--set", "pretrain.steps=1000000", "--set", "pretrain.checkpointEvery=20"));
        ServiceProcess local =
                new ServiceProcess("local-pretrain", args, tmp.resolve("logs"), tmp.resolve("t"));
        try {
            local.start();

            // when it is stopped once its first state is saved
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (!stateSaved(cache)) {
                assertThat(local.isAlive()).as("alive; log:%n%s", local.logTail(30)).isTrue();
                assertThat(System.nanoTime()).as("pretraining state saved").isLessThan(deadline);
                Thread.sleep(200);
            }
            local.requestStop();
            Optional<Integer> exit = local.awaitExit(Duration.ofSeconds(60));

            // then it says that the next run resumes, and from where
            assertThat(exit).as("exit; log:%n%s", local.logTail(30)).contains(128 + 15);
            assertThat(Files.readString(local.logFile()))
                    .contains(
                            "local: interrupted while pretraining; the next run resumes from the"
                                    + " state saved every 20 steps in ");
        } finally {
            local.close();
        }
    }

    private static boolean stateSaved(Path cache) throws Exception {
        Path pretrained = cache.resolve("pretrained");
        if (!Files.isDirectory(pretrained)) {
            return false;
        }
        try (Stream<Path> dirs = Files.list(pretrained)) {
            return dirs.anyMatch(d -> Files.isDirectory(d.resolve("state")));
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void shouldSayWhatTheRunKeepsAndCleanUpWhenInterrupted() throws Exception {
        // given a local run in a process of its own, with a temporary directory of its own
        Path serviceTmp = tmp.resolve("local-tmp");
        Path runs = tmp.resolve("runs");
        ServiceProcess local =
                new ServiceProcess(
                        "local",
                        tinyLocalRun("stopped", runs, tmp.resolve("cache"), 0, 10, 1),
                        tmp.resolve("logs"),
                        serviceTmp);
        try {
            local.start();

            // when it is stopped (SIGTERM; Ctrl-C's SIGINT takes the same path) in its RL phase
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (!Files.exists(local.logFile())
                    || !Files.readString(local.logFile()).contains("] step ")) {
                assertThat(local.isAlive())
                        .as("local run alive; log:%n%s", local.logTail(30))
                        .isTrue();
                assertThat(System.nanoTime()).as("RL phase reached").isLessThan(deadline);
                Thread.sleep(200);
            }
            local.requestStop();
            Optional<Integer> exit = local.awaitExit(Duration.ofSeconds(60));

            // then it exits with the signal's code and says what the run directory keeps
            assertThat(exit).as("exit; log:%n%s", local.logTail(30)).contains(128 + 15);
            String log = Files.readString(local.logFile());
            String after = log.substring(log.indexOf("local: interrupted at learner step"));
            assertThat(after)
                    .contains(runs.resolve("stopped").toString())
                    .contains("keeps the committed checkpoints and the topics");
            // and what follows is quiet: no warning from clients losing the broker
            assertThat(after.lines().filter(l -> l.contains(" WARN ")).toList())
                    .as("warnings after the interruption")
                    .isEmpty();
            // and the sandbox engines deleted their scripts directories
            try (Stream<Path> left = Files.list(serviceTmp)) {
                assertThat(left.map(p -> p.getFileName().toString()))
                        .noneMatch(n -> n.startsWith("diffustream-sandbox-"));
            }
            assertThat(runs.resolve("stopped/checkpoints/v000000/model.safetensors"))
                    .isRegularFile();
        } finally {
            local.close();
        }
        assertThat(local.leftovers()).as("processes left behind").isEmpty();
    }
}

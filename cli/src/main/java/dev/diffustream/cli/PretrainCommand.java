package dev.diffustream.cli;

import dev.diffustream.infra.config.ConfigLoader.Loaded;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.config.PretrainConfig;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.pretrain.PretrainOptions;
import dev.diffustream.policy.pretrain.PretrainResult;
import dev.diffustream.policy.pretrain.Pretrainer;
import dev.diffustream.policy.pretrain.ProgressSink;
import dev.diffustream.policy.tasks.TaskSuites;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffustream pretrain}: supervised masked-diffusion pretraining of the tiny model. */
@Command(
        name = "pretrain",
        description =
                "Pretrains the tiny model (recipe sections model and pretrain) on the built-in"
                        + " suite's train split with the masked-diffusion loss, writes an HF-layout"
                        + " checkpoint to OUT/checkpoint and reports the held-out format-valid and"
                        + " exact-match rates. Deterministic for a seed; resumes from OUT/state.")
final class PretrainCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--out",
            required = true,
            paramLabel = "DIR",
            description = "Output directory (state, checkpoint, pretrain.json).")
    Path out;

    @Option(
            names = "--steps",
            paramLabel = "N",
            description = "Optimizer steps (overrides pretrain.steps).")
    Integer steps;

    @Option(
            names = "--suite",
            paramLabel = "SPEC",
            defaultValue = "builtin",
            description = "Task suite with train and held-out splits (default ${DEFAULT-VALUE}).")
    String suite;

    @Override
    public Integer call() throws Exception {
        Loaded<Recipe> loaded = Main.of(spec).loadedRecipe();
        Recipe r = loaded.value();
        PrintWriter err = spec.commandLine().getErr();
        PretrainConfig cfg = steps != null ? r.pretrain().withSteps(steps) : r.pretrain();
        Map<String, Record> sections = new LinkedHashMap<>();
        sections.put("model", r.model());
        sections.put("pretrain", cfg);
        Startup.print(err, "pretrain", r, loaded.sha256(), sections);
        DeviceRuntime.initialize(r.model().device());
        PretrainResult result = run(r.model(), cfg, suite, out, err);
        report(result, spec.commandLine().getOut());
        return 0;
    }

    /**
     * Runs (or resumes) pretraining with a progress bar on {@code err}, with {@code
     * model.device.threads} PyTorch threads; the process's previous count is restored afterwards
     * (local mode pretrains with the whole machine, then runs its services with {@code
     * policy.device.threads}).
     */
    static PretrainResult run(
            ModelConfig model, PretrainConfig cfg, String suite, Path out, PrintWriter err)
            throws Exception {
        return DeviceRuntime.withThreads(
                model.device().threads(), () -> pretrain(model, cfg, suite, out, err));
    }

    private static PretrainResult pretrain(
            ModelConfig model, PretrainConfig cfg, String suite, Path out, PrintWriter err)
            throws Exception {
        PretrainOptions options =
                new PretrainOptions(
                        cfg, model, TaskSuites.open(suite), CharTokenizer.standard(), 0);
        Progress[] bar = {null};
        ProgressSink sink =
                new ProgressSink() {
                    @Override
                    public void onProgress(dev.diffustream.policy.pretrain.PretrainProgress p) {
                        if (bar[0] == null) {
                            bar[0] = new Progress(err, "pretrain", p.totalSteps());
                        }
                        bar[0].setSuffix(
                                String.format(
                                        Locale.ROOT,
                                        "loss %.3f, lr %.2e, %.2f steps/s",
                                        p.loss(),
                                        p.learningRate(),
                                        p.stepsPerSecond()));
                        bar[0].update((long) p.step());
                    }

                    @Override
                    public void onMessage(String message) {
                        if (bar[0] != null) {
                            bar[0].done();
                        }
                        err.println("pretrain: " + message);
                        err.flush();
                    }
                };
        PretrainResult result = new Pretrainer().run(options, out, sink);
        if (bar[0] != null) {
            bar[0].done();
        }
        return result;
    }

    static void report(PretrainResult r, PrintWriter out) {
        out.printf(
                Locale.ROOT,
                "steps = %d/%d (resumed from %d), train seconds = %.1f, last loss = %.4f%n",
                r.stepsDone(),
                r.totalSteps(),
                r.resumedFromStep(),
                r.trainSeconds(),
                r.lastLoss());
        out.printf(
                Locale.ROOT,
                "validation loss = %.4f -> %.4f%n",
                r.validationLossBefore(),
                r.validationLossAfter());
        if (r.checkpointDir() != null) {
            out.printf("checkpoint = %s (sha256 %s)%n", r.checkpointDir(), r.sha256());
        }
        if (r.evaluation() != null) {
            out.println("held-out evaluation: " + r.evaluation());
        }
        out.flush();
    }
}

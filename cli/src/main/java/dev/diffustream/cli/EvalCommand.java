package dev.diffustream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.learner.eval.EvalConfig;
import dev.diffustream.learner.eval.PassAtK;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.sandbox.SandboxEngine;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffustream eval}: pass@k of a checkpoint, through the sandbox, without Kafka. */
@Command(
        name = "eval",
        description =
                "Samples n completions per task of a suite with a checkpoint and executes them in the"
                        + " sandbox; prints pass@1..n (unbiased estimator), the format-valid rate and"
                        + " the mean reward. No Kafka needed.")
final class EvalCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--checkpoint",
            required = true,
            paramLabel = "DIR",
            description = "Checkpoint directory (HF layout).")
    Path checkpoint;

    @Option(
            names = "--suite",
            paramLabel = "SPEC",
            description =
                    "Task suite (default eval.suite): builtin[:seed], humaneval:PATH, mbpp:PATH,"
                            + " acecode:PATH.")
    String suite;

    @Option(
            names = "--split",
            paramLabel = "SPLIT",
            description = "heldout, train or test (default eval.split).")
    String split;

    @Option(
            names = "--tasks",
            paramLabel = "N",
            description = "Evaluate the first N tasks (default eval.tasks; 0 = all).")
    Integer tasks;

    @Option(
            names = "--samples",
            paramLabel = "K",
            description = "Samples per task (default eval.samples); pass@1..K are reported.")
    Integer samples;

    @Option(
            names = "--temperature",
            paramLabel = "T",
            description = "Sampling temperature (default eval.temperature).")
    Double temperature;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Option(
            names = "--dump",
            paramLabel = "FILE",
            description =
                    "Also write every sampled completion to FILE as JSON lines (task id, sample"
                            + " index, prompt, completion text, format and code reward, sandbox"
                            + " outcome), to inspect what the policy writes.")
    Path dump;

    @Override
    public Integer call() throws Exception {
        Recipe r = Main.of(spec).recipe();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        EvalConfig base = r.eval();
        EvalConfig cfg =
                new EvalConfig(
                        suite != null ? suite : base.suite(),
                        split != null ? split : base.split(),
                        tasks != null ? tasks : base.tasks(),
                        samples != null ? samples : base.samples(),
                        temperature != null ? temperature : base.temperature(),
                        base.batchRows(),
                        base.seed(),
                        base.everyVersions(),
                        base.threads());
        if (cfg.samples() > 1 && cfg.temperature() == 0) {
            err.println(
                    "eval: warning: greedy sampling (temperature 0) makes the "
                            + cfg.samples()
                            + " samples identical; pass@k for k > 1 then equals pass@1");
        }
        if (!Files.isDirectory(checkpoint)) {
            throw new CliException("checkpoint directory " + checkpoint + " does not exist");
        }
        DeviceRuntime.initialize(r.policy().device());
        List<CodeTask> list = Evaluations.tasks(cfg);
        err.printf(
                Locale.ROOT,
                "eval: %d task(s) of %s/%s, %d sample(s) each, temperature %.2f, up to %d"
                        + " tokens in %d diffusion steps; %s%n",
                list.size(),
                cfg.suite(),
                cfg.split(),
                cfg.samples(),
                cfg.temperature(),
                r.sampler().maxNewTokens(),
                r.sampler().steps(),
                Main.of(spec).recipeSource());
        err.flush();
        int total = list.size() * cfg.samples();
        PassAtK.Result result;
        try (LoadedPolicy policy =
                        LoadedPolicy.load(checkpoint, r.policy().device(), false, 0, null);
                SandboxEngine engine = SandboxEngine.start(r.sandbox());
                SandboxScorer scorer = new SandboxScorer(engine)) {
            Progress bar = new Progress(err, "eval: sampling", total);
            result =
                    Evaluations.runAlone(
                            r, cfg, policy.model(), policy.tokenizer(), list, scorer, bar::update);
            bar.done();
        }
        if (dump != null) {
            writeDump(dump, list, result);
            err.println("eval: " + result.samples().size() + " completion(s) written to " + dump);
        }
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            o.put("checkpoint", checkpoint.toString());
            o.put("suite", cfg.suite());
            o.put("split", cfg.split());
            o.put("tasks", result.tasks());
            o.put("samples", result.samplesPerTask());
            o.put("temperature", cfg.temperature());
            ObjectNode pass = o.putObject("pass_at_k");
            for (Map.Entry<Integer, Double> e : result.passAtK().entrySet()) {
                pass.put(Integer.toString(e.getKey()), e.getValue());
            }
            o.put("format_valid_rate", result.formatValidRate());
            o.put("mean_reward", result.meanReward());
            o.put("seconds", result.seconds());
            out.println(m.writeValueAsString(o));
        } else {
            for (Map.Entry<Integer, Double> e : result.passAtK().entrySet()) {
                out.printf(Locale.ROOT, "pass@%d = %.4f%n", e.getKey(), e.getValue());
            }
            out.printf(Locale.ROOT, "format_valid = %.4f%n", result.formatValidRate());
            out.printf(Locale.ROOT, "mean_reward = %.4f%n", result.meanReward());
            out.printf(
                    Locale.ROOT,
                    "tasks = %d, samples = %d, seconds = %.1f%n",
                    result.tasks(),
                    result.samplesPerTask(),
                    result.seconds());
        }
        out.flush();
        return 0;
    }

    /** One JSON line per sampled completion, in task order. */
    static void writeDump(Path file, List<CodeTask> tasks, PassAtK.Result result)
            throws IOException {
        Map<String, String> prompts = new HashMap<>();
        for (CodeTask t : tasks) {
            prompts.put(t.id(), t.prompt());
        }
        ObjectMapper m = new ObjectMapper();
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (PassAtK.Sample s : result.samples()) {
                ObjectNode o = m.createObjectNode();
                o.put("task_id", s.taskId());
                o.put("sample", s.sample());
                o.put("prompt", prompts.get(s.taskId()));
                o.put("completion", s.text());
                o.put("format_reward", s.formatReward());
                o.put("code_reward", s.codeReward());
                o.put("solved", s.solved());
                o.put("outcome", s.outcome());
                w.write(m.writeValueAsString(o));
                w.newLine();
            }
        }
    }
}

package dev.diffustream.cli;

import dev.diffustream.learner.eval.EvalConfig;
import dev.diffustream.learner.eval.PassAtK;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuites;
import dev.diffustream.policy.tokenizer.Tokenizer;
import java.util.List;
import java.util.function.IntConsumer;

/** Held-out evaluation as the recipe describes it (shared by eval, the learner and local mode). */
final class Evaluations {
    private Evaluations() {}

    /** The tasks of {@code cfg}: its suite and split, the first {@code cfg.tasks()} of them. */
    static List<CodeTask> tasks(EvalConfig cfg) {
        TaskSplit split;
        try {
            split = TaskSplit.parse("eval.split", cfg.split());
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        List<CodeTask> all = TaskSuites.open(cfg.suite()).load(split);
        return cfg.tasks() > 0 && cfg.tasks() < all.size() ? all.subList(0, cfg.tasks()) : all;
    }

    /**
     * PyTorch threads of an evaluation that has the machine to itself (the eval command, local
     * mode's baseline and final evaluation): {@code eval.threads}, or {@code policy.device.threads}
     * when that is 0.
     */
    static int threads(Recipe r, EvalConfig cfg) {
        return cfg.threads() > 0 ? cfg.threads() : r.policy().device().threads();
    }

    /** The sampler used for evaluation: the rollout sampler at the evaluation temperature. */
    static SamplerConfig sampler(Recipe r, EvalConfig cfg) {
        return r.sampler().withTemperature(cfg.temperature());
    }

    static PassAtK.Result run(
            Recipe r,
            EvalConfig cfg,
            PolicyModel model,
            Tokenizer tokenizer,
            List<CodeTask> tasks,
            SandboxScorer scorer,
            IntConsumer progress) {
        PassAtK eval =
                new PassAtK(
                        sampler(r, cfg),
                        r.policy().systemPrompt(),
                        r.grpo().maxPromptLength(),
                        scorer,
                        cfg.batchRows(),
                        r.rewards());
        return eval.evaluate(model, tokenizer, tasks, cfg.samples(), cfg.seed(), progress);
    }

    /**
     * {@link #run} for an evaluation that has the machine to itself, with {@link #threads} PyTorch
     * threads.
     */
    static PassAtK.Result runAlone(
            Recipe r,
            EvalConfig cfg,
            PolicyModel model,
            Tokenizer tokenizer,
            List<CodeTask> tasks,
            SandboxScorer scorer,
            IntConsumer progress) {
        return DeviceRuntime.withThreads(
                threads(r, cfg), () -> run(r, cfg, model, tokenizer, tasks, scorer, progress));
    }
}

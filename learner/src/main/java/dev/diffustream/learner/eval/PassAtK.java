package dev.diffustream.learner.eval;

import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.pretrain.PretrainData;
import dev.diffustream.policy.sampler.DreamSampler;
import dev.diffustream.policy.sampler.SampleResult;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tokenizer.Tokenizer;
import dev.diffustream.schemas.config.RewardWeights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * pass@k of a policy on a task suite: n samples per task (Dream sampling, batched across tasks),
 * each executed against the task's tests, and the unbiased estimator of Chen et al. (2021): pass@k
 * = E_tasks[1 − C(n−c, k) / C(n, k)], c = samples that pass every test.
 */
public final class PassAtK {

    /** Per-task outcome. */
    public record TaskResult(String taskId, int samples, int solved, int formatValid) {}

    /**
     * One sampled completion and how it scored, for inspecting what the policy writes.
     *
     * @param sample index of the sample within its task (0..n-1)
     * @param text decoded completion (special tokens removed)
     * @param outcome the sandbox's typed outcome (PASSED, FAILED, ...)
     */
    public record Sample(
            String taskId,
            int sample,
            String text,
            double formatReward,
            double codeReward,
            boolean solved,
            String outcome) {}

    /** The evaluation's figures. */
    public record Result(
            int tasks,
            int samplesPerTask,
            Map<Integer, Double> passAtK,
            double formatValidRate,
            double meanReward,
            List<TaskResult> perTask,
            List<Sample> samples,
            double seconds) {

        public double passAt1() {
            return passAtK.get(1);
        }
    }

    private final SamplerConfig sampler;
    private final String systemPrompt;
    private final int maxPromptLength;
    private final CompletionScorer scorer;
    private final int batchRows;
    private final RewardWeights weights;

    public PassAtK(
            SamplerConfig sampler,
            String systemPrompt,
            int maxPromptLength,
            CompletionScorer scorer,
            int batchRows,
            RewardWeights weights) {
        this.sampler = sampler;
        this.systemPrompt = systemPrompt;
        this.maxPromptLength = maxPromptLength;
        this.scorer = scorer;
        this.batchRows = batchRows;
        this.weights = weights;
    }

    /** The unbiased pass@k estimate for one task with n samples of which c pass. */
    public static double passAtK(int n, int c, int k) {
        if (k > n) {
            throw new IllegalArgumentException("k = " + k + " > n = " + n);
        }
        if (n - c < k) {
            return 1.0;
        }
        double prod = 1.0; // C(n−c, k) / C(n, k) = Π_{i=n−c+1..n} (1 − k/i)
        for (int i = n - c + 1; i <= n; i++) {
            prod *= 1.0 - (double) k / i;
        }
        return 1.0 - prod;
    }

    /**
     * Evaluates {@code model} on {@code tasks} with {@code samples} samples each.
     *
     * @param progress called with the number of rows sampled so far
     */
    public Result evaluate(
            PolicyModel model,
            Tokenizer tokenizer,
            List<CodeTask> tasks,
            int samples,
            long seed,
            IntConsumer progress) {
        long t0 = System.nanoTime();
        int total = tasks.size() * samples;
        int[][] prompts = new int[total][];
        for (int t = 0; t < tasks.size(); t++) {
            int[] p =
                    PretrainData.promptIds(
                            tokenizer, systemPrompt, tasks.get(t).prompt(), maxPromptLength);
            for (int s = 0; s < samples; s++) {
                prompts[t * samples + s] = p;
            }
        }
        DreamSampler dream = new DreamSampler(sampler, tokenizer.maskId(), tokenizer.padId());
        String[] texts = new String[total];
        for (int start = 0; start < total; start += batchRows) {
            int end = Math.min(total, start + batchRows);
            int[][] chunk = new int[end - start][];
            System.arraycopy(prompts, start, chunk, 0, chunk.length);
            SampleResult r;
            try (NDManager manager = model.manager().newSubManager()) {
                r = dream.generate(model.inference(), chunk, seed + start, manager);
            }
            for (int i = 0; i < chunk.length; i++) {
                texts[start + i] = tokenizer.decode(r.completions()[i], true);
            }
            progress.accept(end);
        }
        List<CompletionScorer.Request> requests = new ArrayList<>(total);
        for (int i = 0; i < total; i++) {
            CodeTask task = tasks.get(i / samples);
            requests.add(new CompletionScorer.Request(texts[i], task.tests(), task.setupCode()));
        }
        List<CompletionScorer.Score> scores = scorer.score(requests);
        List<TaskResult> perTask = new ArrayList<>();
        List<Sample> sampled = new ArrayList<>(total);
        int formatValid = 0;
        double rewardSum = 0;
        Map<Integer, Double> sums = new LinkedHashMap<>();
        for (int t = 0; t < tasks.size(); t++) {
            int solved = 0;
            int valid = 0;
            for (int s = 0; s < samples; s++) {
                CompletionScorer.Score sc = scores.get(t * samples + s);
                sampled.add(
                        new Sample(
                                tasks.get(t).id(),
                                s,
                                texts[t * samples + s],
                                sc.formatReward(),
                                sc.codeReward(),
                                sc.solved(),
                                sc.outcome()));
                solved += sc.solved() ? 1 : 0;
                valid += sc.formatReward() >= 1.0 ? 1 : 0;
                rewardSum += weights.total(sc.codeReward(), sc.formatReward());
            }
            formatValid += valid;
            perTask.add(new TaskResult(tasks.get(t).id(), samples, solved, valid));
            for (int k = 1; k <= samples; k++) {
                sums.merge(k, passAtK(samples, solved, k), Double::sum);
            }
        }
        Map<Integer, Double> passAtK = new LinkedHashMap<>();
        sums.forEach((k, v) -> passAtK.put(k, tasks.isEmpty() ? 0 : v / tasks.size()));
        return new Result(
                tasks.size(),
                samples,
                passAtK,
                total == 0 ? 0 : (double) formatValid / total,
                total == 0 ? 0 : rewardSum / total,
                perTask,
                List.copyOf(sampled),
                (System.nanoTime() - t0) / 1e9);
    }
}

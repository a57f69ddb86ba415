package dev.diffustream.policy.pretrain;

import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.model.MaskedLm;
import dev.diffustream.policy.sampler.DreamSampler;
import dev.diffustream.policy.sampler.SampleResult;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples one completion per held-out prompt with the Dream sampler and scores the shape (spec B.1)
 * and exact match to the reference solution. Prompts of one sampler call are left-padded to a
 * common length (the sampler passes the attention mask).
 */
public final class PretrainEvaluator {

    private static final int EXAMPLES = 4;

    private PretrainEvaluator() {}

    /**
     * @param model the policy (use {@code PolicyModel.inference()})
     * @param tasks prompts with reference solutions
     * @param system system message of the chat prompt
     * @param maxPromptLength left truncation of prompts
     * @param sampler sampler settings
     * @param batchSize prompts per sampler call
     * @param seed sampling seed; call i uses {@code Seeds.mix(seed, i)}
     */
    public static HeldOutEvaluation evaluate(
            MaskedLm model,
            Tokenizer tokenizer,
            List<CodeTask> tasks,
            String system,
            int maxPromptLength,
            SamplerConfig sampler,
            int batchSize,
            long seed) {
        long start = System.nanoTime();
        DreamSampler dream = new DreamSampler(sampler, tokenizer.maskId(), tokenizer.padId());
        int valid = 0;
        int exact = 0;
        List<String> examples = new ArrayList<>();
        for (int from = 0, call = 0; from < tasks.size(); from += batchSize, call++) {
            List<CodeTask> chunk = tasks.subList(from, Math.min(tasks.size(), from + batchSize));
            int[][] prompts = new int[chunk.size()][];
            for (int i = 0; i < prompts.length; i++) {
                prompts[i] =
                        PretrainData.promptIds(
                                tokenizer, system, chunk.get(i).prompt(), maxPromptLength);
            }
            SampleResult r = dream.generate(model, prompts, Seeds.mix(seed, call));
            for (int i = 0; i < prompts.length; i++) {
                String text = tokenizer.decode(r.completions()[i], true);
                boolean ok = CompletionFormat.isValid(text);
                valid += ok ? 1 : 0;
                String ref = chunk.get(i).referenceSolution();
                exact += ref != null && CompletionFormat.isExactMatch(text, ref) ? 1 : 0;
                if (examples.size() < EXAMPLES) {
                    examples.add(text);
                }
            }
        }
        int n = tasks.size();
        return new HeldOutEvaluation(
                n,
                valid,
                exact,
                n == 0 ? 0 : (double) valid / n,
                n == 0 ? 0 : (double) exact / n,
                sampler.temperature(),
                (System.nanoTime() - start) / 1e9,
                List.copyOf(examples));
    }
}

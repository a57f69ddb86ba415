package dev.diffustream.policy.pretrain;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.CodeTasks;
import dev.diffustream.policy.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Token-level pretraining examples: the chat prompt of spec A.1 and the target completion in the
 * shape the reward accepts (spec B.1).
 *
 * <pre>
 *   prompt = encode(chatPrompt(system, task.prompt)), left-truncated to maxPromptLength (spec A.1.3)
 *   target = encode("```python\n" + reference + "\n```\n") ++ [&lt;|im_end|&gt;] ++ [pad]*   (length K)
 * </pre>
 *
 * Decoding the target with special tokens skipped gives exactly the block, which the format regex
 * accepts. The actor must build prompts the same way ({@link #promptIds}).
 */
public final class PretrainData {

    /** One example. */
    public record Example(String taskId, int[] prompt, int[] target) {}

    /** The examples that fit, and how many tasks did not fit in K tokens. */
    public record Examples(List<Example> examples, int skipped) {}

    private PretrainData() {}

    /**
     * The prompt ids of spec A.1: the ChatML template with {@code system} (none if empty), the user
     * turn and the assistant generation prompt, keeping the last {@code maxPromptLength} tokens.
     */
    public static int[] promptIds(
            Tokenizer tokenizer, String system, String user, int maxPromptLength) {
        int[] ids = tokenizer.encode(tokenizer.chatPrompt(system, user));
        if (ids.length <= maxPromptLength) {
            return ids;
        }
        return Arrays.copyOfRange(ids, ids.length - maxPromptLength, ids.length);
    }

    /**
     * The target ids: the expected completion, {@code <|im_end|>}, then pad to {@code k}; null if
     * the block and EOS do not fit in k tokens.
     */
    public static int[] targetIds(Tokenizer tokenizer, CodeTask task, int k) {
        int[] text = tokenizer.encode(CodeTasks.expectedCompletion(task));
        if (text.length + 1 > k) {
            return null;
        }
        int[] out = new int[k];
        Arrays.fill(out, tokenizer.padId());
        System.arraycopy(text, 0, out, 0, text.length);
        out[text.length] = tokenizer.imEndId();
        return out;
    }

    /** Examples for every task that has a reference solution and fits. */
    public static Examples build(
            List<CodeTask> tasks, Tokenizer tokenizer, String system, int maxPromptLength, int k) {
        List<Example> out = new ArrayList<>(tasks.size());
        int skipped = 0;
        for (CodeTask task : tasks) {
            if (task.referenceSolution() == null) {
                skipped++;
                continue;
            }
            int[] target = targetIds(tokenizer, task, k);
            if (target == null) {
                skipped++;
                continue;
            }
            out.add(
                    new Example(
                            task.id(),
                            promptIds(tokenizer, system, task.prompt(), maxPromptLength),
                            target));
        }
        return new Examples(List.copyOf(out), skipped);
    }
}

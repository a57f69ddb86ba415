package dev.diffustream.policy.pretrain;

import dev.diffustream.policy.config.PretrainConfig;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.tasks.TaskSuite;
import dev.diffustream.policy.tasks.builtin.BuiltinSuite;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import dev.diffustream.policy.tokenizer.Tokenizer;
import java.util.Objects;

/**
 * Inputs of {@link Pretrainer#run}.
 *
 * @param config training and evaluation hyperparameters
 * @param model the architecture of a fresh model (a resumed run must match it)
 * @param suite tasks: train split for training, held-out split for validation and evaluation
 * @param tokenizer the tokenizer saved next to the checkpoint
 * @param stopAfter stop this invocation after this many total steps without finishing (0 = run to
 *     the budget); state is saved when stopping, so the next invocation resumes
 */
public record PretrainOptions(
        PretrainConfig config,
        ModelConfig model,
        TaskSuite suite,
        Tokenizer tokenizer,
        int stopAfter) {

    public PretrainOptions {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(suite, "suite");
        Objects.requireNonNull(tokenizer, "tokenizer");
        if (stopAfter < 0) {
            throw new IllegalArgumentException("stopAfter must be >= 0, got " + stopAfter);
        }
        if (tokenizer.vocabSize() > model.vocabSize()) {
            throw new IllegalArgumentException(
                    "tokenizer has "
                            + tokenizer.vocabSize()
                            + " ids but model.vocabSize is "
                            + model.vocabSize());
        }
    }

    /** The default recipe: tiny model, built-in suite, character tokenizer. */
    public static PretrainOptions defaults() {
        return new PretrainOptions(
                PretrainConfig.defaults(),
                ModelConfig.defaults(),
                new BuiltinSuite(),
                CharTokenizer.standard(),
                0);
    }

    /** A copy with another config. */
    public PretrainOptions withConfig(PretrainConfig newConfig) {
        return new PretrainOptions(newConfig, model, suite, tokenizer, stopAfter);
    }

    /** A copy that stops after {@code steps} total steps. */
    public PretrainOptions withStopAfter(int steps) {
        return new PretrainOptions(config, model, suite, tokenizer, steps);
    }
}

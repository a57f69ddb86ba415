package dev.diffustream.learner;

import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.tokenizer.Tokenizer;
import java.util.Map;

/**
 * A periodic evaluation the learner may run inline (e.g. held-out pass@1 through the sandbox
 * engine); wired by the command line, since the learner does not depend on the sandbox.
 */
@FunctionalInterface
public interface Evaluation {

    /**
     * Evaluates the current weights.
     *
     * @return metric name → value (e.g. {@code eval/heldout_pass@1})
     */
    Map<String, Double> evaluate(PolicyModel model, Tokenizer tokenizer, long step, long version)
            throws Exception;
}

package dev.diffustream.policy.tasks;

import java.util.Locale;

/** The split of a task suite a task belongs to. */
public enum TaskSplit {
    /** Tasks used for pretraining and RL. */
    TRAIN,
    /** Tasks held out from training, used to measure generalisation (built-in suite). */
    HELDOUT,
    /** External evaluation tasks (HumanEval, MBPP). */
    TEST;

    /**
     * The split named {@code value} (any case, surrounding blanks ignored).
     *
     * @param key the recipe key the value came from, named in the error
     * @throws IllegalArgumentException naming the key and the accepted values
     */
    public static TaskSplit parse(String key, String value) {
        if (value != null) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException(
                key + " must be one of train, heldout, test; got '" + value + "'");
    }
}

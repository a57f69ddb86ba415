package dev.diffustream.policy.tasks;

/** The split of a task suite a task belongs to. */
public enum TaskSplit {
    /** Tasks used for pretraining and RL. */
    TRAIN,
    /** Tasks held out from training, used to measure generalisation (built-in suite). */
    HELDOUT,
    /** External evaluation tasks (HumanEval, MBPP). */
    TEST
}

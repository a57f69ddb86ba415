package dev.diffustream.policy.tasks;

import java.util.List;

/**
 * A source of {@link CodeTask}s: the built-in generator, an AceCode-style or EvalPlus-style file.
 */
public interface TaskSuite {

    /** Suite name, used as {@link CodeTask#source()} and in task ids. */
    String name();

    /**
     * The tasks of one split, in a deterministic order.
     *
     * @throws IllegalArgumentException if the suite has no such split
     */
    List<CodeTask> load(TaskSplit split);
}

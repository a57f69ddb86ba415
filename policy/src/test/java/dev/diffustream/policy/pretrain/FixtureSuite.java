package dev.diffustream.policy.pretrain;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuite;
import java.util.ArrayList;
import java.util.List;

/** A handful of hand-written tasks in the built-in prompt format, for fast tests. */
public final class FixtureSuite implements TaskSuite {

    private static final String[][] TRAIN = {
        {"f(x)", "Return x plus 1.", "return x + 1"},
        {"g(s)", "Return s reversed.", "return s[::-1]"},
        {"h(xs)", "Return the sum of xs.", "return sum(xs)"},
        {"fn(n)", "Return n times 3.", "return n * 3"},
        {"op(t)", "Return t in upper case.", "return t.upper()"},
        {"run(v)", "Return v minus 2.", "return v - 2"},
    };

    private static final String[][] HELDOUT = {
        {"calc(x)", "Return x times 2 plus 1.", "return x * 2 + 1"},
        {"solve(s)", "Return s reversed in upper case.", "return s[::-1].upper()"},
    };

    @Override
    public String name() {
        return "fixture";
    }

    @Override
    public List<CodeTask> load(TaskSplit split) {
        String[][] rows =
                split == TaskSplit.TRAIN ? TRAIN : split == TaskSplit.HELDOUT ? HELDOUT : null;
        if (rows == null) {
            throw new IllegalArgumentException("fixture suite has no split " + split);
        }
        List<CodeTask> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            String sig = rows[i][0];
            String name = sig.substring(0, sig.indexOf('('));
            String prompt =
                    "Please complete the following problem:\n```\ndef "
                            + sig
                            + ":\n    \"\"\"\n    "
                            + rows[i][1]
                            + "\n    \"\"\"\n```\n";
            String ref = "def " + sig + ":\n    " + rows[i][2];
            out.add(
                    new CodeTask(
                            "fixture/" + split + "/" + i,
                            prompt,
                            List.of("assert True"),
                            name,
                            null,
                            ref,
                            "fixture",
                            split,
                            "fixture"));
        }
        return out;
    }
}

package dev.diffustream.policy.tasks.evalplus;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.DiffuCoderPrompts;
import dev.diffustream.policy.tasks.JsonLines;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuite;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * HumanEval in its JSONL(.gz) form ({@code task_id}, {@code prompt}, {@code canonical_solution},
 * {@code test}, {@code entry_point}), all in the {@link TaskSplit#TEST} split.
 *
 * <ul>
 *   <li><b>Prompt</b>: the HumanEval prompt (imports, signature, docstring) inside the "complete
 *       the following problem" frame of spec C.3 — {@code Please complete the following
 *       problem:\n```\n<prompt>```\n} — so the policy answers with a python block as it was trained
 *       to. It contains a fenced block, so spec C.4 adds no test case.
 *   <li><b>Tests</b>: exactly one test per problem, the {@code test} source followed by {@code
 *       check(<entry_point>)}. HumanEval's asserts live inside {@code check(candidate)}, mixed with
 *       loops, helpers and imports, so they cannot be split into independent statements reliably;
 *       as one test, a problem's pass rate is 0 or 1, which is HumanEval's per-problem pass@1.
 *   <li><b>Reference solution</b>: {@code prompt + canonical_solution} (the complete program).
 * </ul>
 */
public final class HumanEvalSuite implements TaskSuite {

    public static final String NAME = "humaneval";

    private final Path file;
    private List<CodeTask> tasks;

    public HumanEvalSuite(Path file) {
        this.file = Objects.requireNonNull(file, "file");
    }

    @Override
    public String name() {
        return NAME;
    }

    public Path file() {
        return file;
    }

    /**
     * @throws IllegalArgumentException for any split but {@link TaskSplit#TEST}
     */
    @Override
    public synchronized List<CodeTask> load(TaskSplit split) {
        if (split != TaskSplit.TEST) {
            throw new IllegalArgumentException(
                    "the humaneval suite has only the TEST split, not " + split);
        }
        if (tasks == null) {
            tasks = read(file);
        }
        return tasks;
    }

    private static List<CodeTask> read(Path file) {
        List<CodeTask> out = new ArrayList<>();
        Map<String, Integer> lineOfId = new HashMap<>();
        for (JsonLines.Line line : JsonLines.read(file)) {
            String id = line.text("task_id");
            String prompt = line.text("prompt");
            String solution = line.text("canonical_solution");
            String test = line.text("test");
            String entryPoint = line.text("entry_point");
            Integer previous = lineOfId.putIfAbsent(id, line.number());
            if (previous != null) {
                throw line.error("duplicate task_id '" + id + "' (first at line " + previous + ")");
            }
            out.add(
                    new CodeTask(
                            id,
                            prompt(prompt),
                            List.of(checkScript(test, entryPoint)),
                            entryPoint,
                            null,
                            prompt + solution,
                            NAME,
                            TaskSplit.TEST,
                            ""));
        }
        return Collections.unmodifiableList(out);
    }

    /** The user prompt for a HumanEval prompt. */
    public static String prompt(String humanEvalPrompt) {
        String body = humanEvalPrompt.endsWith("\n") ? humanEvalPrompt : humanEvalPrompt + "\n";
        return DiffuCoderPrompts.COMPLETE_PROBLEM_HEADER + "\n```\n" + body + "```\n";
    }

    /** The single test of a problem: the test source, then {@code check(<entry_point>)}. */
    public static String checkScript(String test, String entryPoint) {
        String body = test.endsWith("\n") ? test : test + "\n";
        return body + "check(" + entryPoint + ")";
    }
}

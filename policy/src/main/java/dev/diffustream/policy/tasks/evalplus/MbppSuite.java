package dev.diffustream.policy.tasks.evalplus;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.DiffuCoderPrompts;
import dev.diffustream.policy.tasks.JsonLines;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuite;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MBPP in its original JSONL form ({@code text}, {@code code}, {@code task_id}, {@code
 * test_setup_code}, {@code test_list}; {@code challenge_test_list} is ignored), every problem in
 * the {@link TaskSplit#TEST} split, in file order.
 *
 * <ul>
 *   <li><b>Id</b>: {@code Mbpp/<task_id>} (EvalPlus's naming).
 *   <li><b>Prompt</b>: spec C.4 on the problem text — the text, then {@code \nTest cases: } and the
 *       first assert, which also tells the policy the function name.
 *   <li><b>Tests</b>: one per {@code test_list} assert; {@code setupCode} is {@code
 *       test_setup_code} (or {@code null} when empty), meant to run after the code and before each
 *       test (it uses classes the code defines).
 *   <li><b>Reference solution</b>: {@code code}, byte for byte ({@code \r\n} line ends and tabs
 *       preserved).
 *   <li><b>Entry point</b>: the first function defined in {@code code} that the first test calls.
 * </ul>
 */
public final class MbppSuite implements TaskSuite {

    public static final String NAME = "mbpp";

    private static final Pattern DEF = Pattern.compile("(?m)^[ \\t]*def\\s+([A-Za-z_]\\w*)\\s*\\(");
    private static final Pattern CALL = Pattern.compile("([A-Za-z_]\\w*)\\s*\\(");

    private final Path file;
    private List<CodeTask> tasks;

    public MbppSuite(Path file) {
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
                    "the mbpp suite has only the TEST split, not " + split);
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
            JsonNode idNode = line.require("task_id");
            if (!idNode.isIntegralNumber()) {
                throw line.error("field 'task_id' must be an integer, was " + idNode.getNodeType());
            }
            String id = "Mbpp/" + idNode.asLong();
            String text = line.text("text");
            String code = line.text("code");
            String setup = line.optionalText("test_setup_code");
            List<String> tests = line.textList("test_list");
            if (tests.isEmpty()) {
                throw line.error("field 'test_list' is empty");
            }
            Integer previous = lineOfId.putIfAbsent(id, line.number());
            if (previous != null) {
                throw line.error(
                        "duplicate task_id "
                                + idNode.asLong()
                                + " (first at line "
                                + previous
                                + ")");
            }
            out.add(
                    new CodeTask(
                            id,
                            DiffuCoderPrompts.userPrompt(text, tests),
                            tests,
                            entryPoint(code, tests.get(0)),
                            setup == null || setup.isEmpty() ? null : setup,
                            code,
                            NAME,
                            TaskSplit.TEST,
                            ""));
        }
        return Collections.unmodifiableList(out);
    }

    /** The first function defined in {@code code} that {@code test} calls, or {@code null}. */
    static String entryPoint(String code, String test) {
        Set<String> defined = new LinkedHashSet<>();
        Matcher d = DEF.matcher(code);
        while (d.find()) {
            defined.add(d.group(1));
        }
        Matcher c = CALL.matcher(test);
        while (c.find()) {
            if (defined.contains(c.group(1))) {
                return c.group(1);
            }
        }
        return null;
    }
}

package dev.diffustream.policy.tasks.acecode;

import com.fasterxml.jackson.databind.JsonNode;
import dev.diffustream.policy.tasks.JsonLines;
import dev.diffustream.policy.tasks.TaskDataException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads AceCode-style JSONL (spec C.1), plain or gzip-compressed. Required per row: {@code id}
 * (string or integer, unique in the file), {@code question} (string), {@code test_cases} (non-empty
 * array of strings), {@code inferences} (array of objects with {@code completion} (string), {@code
 * model_name} (string) and {@code pass_rate} (number)). Optional: {@code source} (string); {@code
 * context_messages} and any other field are ignored. Every violation is a {@link TaskDataException}
 * naming the file and line.
 */
public final class AceCodeReader {

    private AceCodeReader() {}

    /** Reads every row of {@code file} in file order. */
    public static List<AceCodeRow> read(Path file) {
        List<AceCodeRow> rows = new ArrayList<>();
        Map<String, Integer> lineOfId = new HashMap<>();
        for (JsonLines.Line line : JsonLines.read(file)) {
            AceCodeRow row = parse(line);
            Integer previous = lineOfId.putIfAbsent(row.id(), line.number());
            if (previous != null) {
                throw line.error(
                        "duplicate id '" + row.id() + "' (first at line " + previous + ")");
            }
            rows.add(row);
        }
        return rows;
    }

    static AceCodeRow parse(JsonLines.Line line) {
        String id = line.textOrInteger("id");
        String question = line.text("question");
        List<String> tests = line.textList("test_cases");
        if (tests.isEmpty()) {
            // Spec C.4 shows the first test case and spec B.2 divides by the number of tests.
            throw line.error("field 'test_cases' is empty");
        }
        JsonNode array = line.array("inferences");
        List<AceCodeRow.Inference> inferences = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonNode inf = array.get(i);
            String where = "inferences[" + i + "]";
            if (!inf.isObject()) {
                throw line.error(
                        "field '" + where + "' must be an object, was " + inf.getNodeType());
            }
            inferences.add(
                    new AceCodeRow.Inference(
                            text(line, inf, where, "completion"),
                            text(line, inf, where, "model_name"),
                            number(line, inf, where, "pass_rate")));
        }
        return new AceCodeRow(
                id,
                line.optionalText("source"),
                question,
                tests,
                inferences,
                false,
                line.file(),
                line.number());
    }

    private static String text(JsonLines.Line line, JsonNode obj, String where, String field) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            throw line.error("missing field '" + where + "." + field + "'");
        }
        if (!v.isTextual()) {
            throw line.error(
                    "field '" + where + "." + field + "' must be a string, was " + v.getNodeType());
        }
        return v.asText();
    }

    private static double number(JsonLines.Line line, JsonNode obj, String where, String field) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            throw line.error("missing field '" + where + "." + field + "'");
        }
        if (!v.isNumber()) {
            throw line.error(
                    "field '" + where + "." + field + "' must be a number, was " + v.getNodeType());
        }
        return v.asDouble();
    }
}

package dev.diffustream.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.infra.config.ConfigLoader;
import dev.diffustream.schemas.serde.AvroJson;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Reads one record from one line of JSON in Avro's JSON encoding, and says which field is wrong
 * when it does not fit: {@code field 'tests[1]': expected string, got a number}.
 *
 * <p>Besides the strict encoding (a union value wrapped as {@code {"string": "x"}}, as {@code
 * topics consume} prints it) it accepts what people type: a bare value for a union when exactly one
 * branch fits it, an omitted field that has a default, and an ISO-8601 instant for a {@code
 * timestamp-millis} field.
 */
final class AvroJsonReader<T extends SpecificRecord> {

    /** A line that is not a valid record; the message says where and why. */
    static final class InvalidRecord extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidRecord(String message) {
            super(message);
        }
    }

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** A line with many problems is reported with its first few. */
    private static final int MAX_REPORTED = 3;

    private final Class<T> type;
    private final Schema schema;

    AvroJsonReader(Class<T> type) {
        this.type = type;
        this.schema = SpecificData.get().getSchema(type);
    }

    T read(String line) throws InvalidRecord {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new InvalidRecord(
                    "malformed JSON at column "
                            + e.getLocation().getColumnNr()
                            + ": "
                            + e.getOriginalMessage());
        }
        List<String> errors = new ArrayList<>();
        JsonNode normalized = normalize(schema, node, "", errors);
        if (!errors.isEmpty()) {
            List<String> shown = errors.subList(0, Math.min(errors.size(), MAX_REPORTED));
            throw new InvalidRecord(
                    String.join("; ", shown)
                            + (errors.size() > shown.size()
                                    ? " (and " + (errors.size() - shown.size()) + " more)"
                                    : ""));
        }
        try {
            return AvroJson.fromJson(type, normalized.toString());
        } catch (IllegalArgumentException e) {
            throw new InvalidRecord(e.getMessage());
        }
    }

    private static JsonNode normalize(Schema s, JsonNode n, String path, List<String> errors) {
        switch (s.getType()) {
            case RECORD -> {
                if (!n.isObject()) {
                    errors.add(
                            at(path)
                                    + "expected a JSON object ("
                                    + describe(s)
                                    + "), got "
                                    + kind(n));
                    return n;
                }
                ObjectNode out = F.objectNode();
                List<String> names = s.getFields().stream().map(Schema.Field::name).toList();
                for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                    String name = it.next();
                    if (s.getField(name) == null) {
                        errors.add(
                                "unknown field '"
                                        + join(path, name)
                                        + "'"
                                        + ConfigLoader.suggestion(name, names)
                                                .replace("known keys", "fields of " + s.getName()));
                    }
                }
                for (Schema.Field f : s.getFields()) {
                    JsonNode child = n.get(f.name());
                    String childPath = join(path, f.name());
                    if (child == null) {
                        if (f.hasDefaultValue()) {
                            out.set(f.name(), defaultJson(f));
                        } else {
                            errors.add(
                                    "field '"
                                            + childPath
                                            + "' is missing ("
                                            + describe(f.schema())
                                            + ")");
                        }
                        continue;
                    }
                    out.set(f.name(), normalize(f.schema(), child, childPath, errors));
                }
                return out;
            }
            case UNION -> {
                return union(s, n, path, errors);
            }
            case ARRAY -> {
                if (!n.isArray()) {
                    errors.add(at(path) + "expected " + describe(s) + ", got " + kind(n));
                    return n;
                }
                ArrayNode out = F.arrayNode();
                for (int i = 0; i < n.size(); i++) {
                    out.add(normalize(s.getElementType(), n.get(i), path + "[" + i + "]", errors));
                }
                return out;
            }
            case MAP -> {
                if (!n.isObject()) {
                    errors.add(at(path) + "expected " + describe(s) + ", got " + kind(n));
                    return n;
                }
                ObjectNode out = F.objectNode();
                for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    out.set(
                            e.getKey(),
                            normalize(
                                    s.getValueType(),
                                    e.getValue(),
                                    path + "[\"" + e.getKey() + "\"]",
                                    errors));
                }
                return out;
            }
            case ENUM -> {
                if (!n.isTextual() || !s.getEnumSymbols().contains(n.asText())) {
                    errors.add(at(path) + "expected " + describe(s) + ", got " + kind(n));
                }
                return n;
            }
            case STRING, BYTES, FIXED -> {
                if (!n.isTextual()) {
                    errors.add(at(path) + "expected " + describe(s) + ", got " + kind(n));
                }
                return n;
            }
            case INT -> {
                if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                    errors.add(at(path) + "expected " + describe(s) + ", got " + kind(n));
                }
                return n;
            }
            case LONG -> {
                if (n.isTextual() && s.getLogicalType() instanceof LogicalTypes.TimestampMillis) {
                    try {
                        return F.numberNode(Instant.parse(n.asText()).toEpochMilli());
                    } catch (DateTimeParseException e) {
                        errors.add(
                                at(path)
                                        + "expected "
                                        + describe(s)
                                        + ", got '"
                                        + n.asText()
                                        + "'");
                        return n;
                    }
                }
                if (!n.isIntegralNumber() || !n.canConvertToLong()) {
                    errors.add(at(path) + "expected " + describe(s) + ", got " + kind(n));
                }
                return n;
            }
            case FLOAT, DOUBLE -> {
                if (!n.isNumber()) {
                    errors.add(at(path) + "expected " + describe(s) + ", got " + kind(n));
                }
                return n;
            }
            case BOOLEAN -> {
                if (!n.isBoolean()) {
                    errors.add(at(path) + "expected " + describe(s) + ", got " + kind(n));
                }
                return n;
            }
            case NULL -> {
                if (!n.isNull()) {
                    errors.add(at(path) + "expected null, got " + kind(n));
                }
                return n;
            }
            default -> {
                return n;
            }
        }
    }

    private static JsonNode union(Schema s, JsonNode n, String path, List<String> errors) {
        List<Schema> branches = s.getTypes();
        if (n.isNull()) {
            if (branches.stream().anyMatch(b -> b.getType() == Schema.Type.NULL)) {
                return n;
            }
            errors.add(at(path) + "null is not allowed (expected " + describe(s) + ")");
            return n;
        }
        // The strict encoding: {"<branch>": value}.
        if (n.isObject() && n.size() == 1) {
            String key = n.fieldNames().next();
            for (Schema b : branches) {
                if (key.equals(branchName(b)) || (isNamed(b) && key.equals(b.getName()))) {
                    ObjectNode out = F.objectNode();
                    out.set(branchName(b), normalize(b, n.get(key), path, errors));
                    return out;
                }
            }
        }
        // A bare value: the one branch that takes it.
        for (Schema b : branches) {
            if (b.getType() == Schema.Type.NULL) {
                continue;
            }
            List<String> trial = new ArrayList<>();
            JsonNode v = normalize(b, n, path, trial);
            if (trial.isEmpty()) {
                ObjectNode out = F.objectNode();
                out.set(branchName(b), v);
                return out;
            }
        }
        errors.add(at(path) + "expected " + describe(s) + ", got " + kind(n));
        return n;
    }

    private static boolean isNamed(Schema s) {
        return s.getType() == Schema.Type.RECORD
                || s.getType() == Schema.Type.ENUM
                || s.getType() == Schema.Type.FIXED;
    }

    private static String branchName(Schema b) {
        return isNamed(b) ? b.getFullName() : b.getType().getName();
    }

    /** A field's default in Avro's JSON encoding (a non-null union default wrapped). */
    private static JsonNode defaultJson(Schema.Field f) {
        JsonNode value = toJson(f.defaultVal());
        if (f.schema().getType() == Schema.Type.UNION && !value.isNull()) {
            ObjectNode wrapped = F.objectNode();
            wrapped.set(branchName(f.schema().getTypes().get(0)), value);
            return wrapped;
        }
        return value;
    }

    private static JsonNode toJson(Object v) {
        if (v == null || v == JsonProperties.NULL_VALUE) {
            return F.nullNode();
        }
        return JSON.valueToTree(v);
    }

    static String describe(Schema s) {
        return switch (s.getType()) {
            case RECORD -> "record " + s.getName();
            case ENUM -> "one of " + String.join("|", s.getEnumSymbols());
            case ARRAY -> "array of " + describe(s.getElementType());
            case MAP -> "map of " + describe(s.getValueType());
            case UNION ->
                    s.getTypes().stream()
                            .map(AvroJsonReader::describe)
                            .collect(Collectors.joining(" or "));
            case LONG ->
                    s.getLogicalType() instanceof LogicalTypes.TimestampMillis
                            ? "timestamp-millis (epoch ms or ISO-8601)"
                            : "long";
            default -> s.getType().getName();
        };
    }

    private static String kind(JsonNode n) {
        if (n.isTextual()) {
            return "a string";
        }
        if (n.isNumber()) {
            return "a number";
        }
        if (n.isObject()) {
            return "an object";
        }
        if (n.isArray()) {
            return "an array";
        }
        if (n.isBoolean()) {
            return "a boolean";
        }
        if (n.isNull()) {
            return "null";
        }
        return n.getNodeType().toString();
    }

    private static String at(String path) {
        return path.isEmpty() ? "" : "field '" + path + "': ";
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }
}

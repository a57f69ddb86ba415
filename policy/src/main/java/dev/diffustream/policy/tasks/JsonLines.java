package dev.diffustream.policy.tasks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.zip.GZIPInputStream;

/**
 * Reads JSON Lines files (one JSON object per line, blank lines ignored), plain or gzip-compressed
 * (detected by the gzip magic bytes, not the file name). Every problem is reported as a {@link
 * TaskDataException} naming the file and line.
 */
public final class JsonLines {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonLines() {}

    /** One parsed line: the object and where it came from, with typed field accessors. */
    public record Line(Path file, int number, JsonNode node) {

        public Line {
            Objects.requireNonNull(file, "file");
            Objects.requireNonNull(node, "node");
        }

        /** An error at this line. */
        public TaskDataException error(String message) {
            return new TaskDataException(file, number, message);
        }

        /** The field, which must be present and not null. */
        public JsonNode require(String field) {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                throw error("missing field '" + field + "'");
            }
            return value;
        }

        /** A required string field. */
        public String text(String field) {
            JsonNode value = require(field);
            if (!value.isTextual()) {
                throw error("field '" + field + "' must be a string, was " + value.getNodeType());
            }
            return value.asText();
        }

        /** An optional string field; {@code null} when absent or JSON null. */
        public String optionalText(String field) {
            JsonNode value = node.get(field);
            if (value == null || value.isNull()) {
                return null;
            }
            if (!value.isTextual()) {
                throw error("field '" + field + "' must be a string, was " + value.getNodeType());
            }
            return value.asText();
        }

        /** A required field that is a string or an integer, returned as text (ids). */
        public String textOrInteger(String field) {
            JsonNode value = require(field);
            if (value.isTextual() || value.isIntegralNumber()) {
                return value.asText();
            }
            throw error(
                    "field '"
                            + field
                            + "' must be a string or an integer, was "
                            + value.getNodeType());
        }

        /** A required array of strings. */
        public List<String> textList(String field) {
            JsonNode value = require(field);
            if (!value.isArray()) {
                throw error("field '" + field + "' must be an array, was " + value.getNodeType());
            }
            List<String> out = new ArrayList<>(value.size());
            for (int i = 0; i < value.size(); i++) {
                JsonNode item = value.get(i);
                if (!item.isTextual()) {
                    throw error(
                            "field '"
                                    + field
                                    + "["
                                    + i
                                    + "]' must be a string, was "
                                    + item.getNodeType());
                }
                out.add(item.asText());
            }
            return out;
        }

        /** A required array (of anything). */
        public JsonNode array(String field) {
            JsonNode value = require(field);
            if (!value.isArray()) {
                throw error("field '" + field + "' must be an array, was " + value.getNodeType());
            }
            return value;
        }
    }

    /**
     * Reads every non-blank line of {@code file} as a JSON object.
     *
     * @throws TaskDataException if the file is missing or unreadable, or a line is not a JSON
     *     object
     */
    public static List<Line> read(Path file) {
        Objects.requireNonNull(file, "file");
        List<Line> lines = new ArrayList<>();
        try (BufferedReader reader = open(file)) {
            int number = 0;
            String text;
            while ((text = reader.readLine()) != null) {
                number++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = MAPPER.readTree(text);
                } catch (JsonProcessingException e) {
                    throw new TaskDataException(
                            file, number, "malformed JSON: " + e.getOriginalMessage(), e);
                }
                if (node == null || !node.isObject()) {
                    throw new TaskDataException(
                            file,
                            number,
                            "expected a JSON object, got "
                                    + (node == null ? "nothing" : node.getNodeType()));
                }
                lines.add(new Line(file, number, node));
            }
        } catch (NoSuchFileException e) {
            throw new TaskDataException(file, 0, "file not found", e);
        } catch (IOException e) {
            throw new TaskDataException(file, 0, "cannot read: " + e, e);
        } catch (UncheckedIOException e) {
            throw new TaskDataException(file, 0, "cannot read: " + e.getCause(), e);
        }
        return lines;
    }

    private static BufferedReader open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file));
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            in = new GZIPInputStream(in);
        }
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    }
}

package dev.diffustream.infra.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * One record of the registry's store topic. Keys identify what a record is about ({@code (subject,
 * version)} or a subject's config), so log compaction keeps exactly the latest state of each; keys
 * are written with a fixed field order so equal keys are equal bytes.
 *
 * <pre>
 * SCHEMA  key {"keytype":"SCHEMA","subject":s,"version":v,"magic":1}
 *         value {"subject":s,"version":v,"id":i,"schema":"...","deleted":false}
 * CONFIG  key {"keytype":"CONFIG","subject":s|null,"magic":0}
 *         value {"compatibilityLevel":"BACKWARD"} (null value: subject config removed)
 * </pre>
 */
public sealed interface LogRecord {

    ObjectMapper JSON = new ObjectMapper();

    /** The record key, as bytes. */
    byte[] key();

    /** The record value, as bytes; {@code null} for a tombstone. */
    byte[] value();

    /** A version of a subject (soft-deleted versions keep their id and schema). */
    record SchemaRecord(String subject, int version, int id, String schema, boolean deleted)
            implements LogRecord {
        @Override
        public byte[] key() {
            return schemaKey(subject, version);
        }

        @Override
        public byte[] value() {
            ObjectNode v = JSON.createObjectNode();
            v.put("subject", subject);
            v.put("version", version);
            v.put("id", id);
            v.put("schema", schema);
            v.put("deleted", deleted);
            return bytes(v);
        }
    }

    /** Removes a key that a conflicting write left behind (see {@link RegistryService}). */
    record SchemaTombstone(String subject, int version) implements LogRecord {
        @Override
        public byte[] key() {
            return schemaKey(subject, version);
        }

        @Override
        public byte[] value() {
            return null;
        }
    }

    /** The compatibility level of a subject, or the global one ({@code subject == null}). */
    record ConfigRecord(String subject, CompatibilityLevel level) implements LogRecord {
        @Override
        public byte[] key() {
            ObjectNode k = JSON.createObjectNode();
            k.put("keytype", "CONFIG");
            if (subject == null) {
                k.putNull("subject");
            } else {
                k.put("subject", subject);
            }
            k.put("magic", 0);
            return bytes(k);
        }

        @Override
        public byte[] value() {
            if (level == null) {
                return null;
            }
            return bytes(JSON.createObjectNode().put("compatibilityLevel", level.name()));
        }
    }

    private static byte[] schemaKey(String subject, int version) {
        ObjectNode k = JSON.createObjectNode();
        k.put("keytype", "SCHEMA");
        k.put("subject", subject);
        k.put("version", version);
        k.put("magic", 1);
        return bytes(k);
    }

    private static byte[] bytes(JsonNode node) {
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Decodes a record of the store topic.
     *
     * @throws IllegalArgumentException if it is not a record this registry wrote
     */
    static LogRecord decode(byte[] key, byte[] value) {
        try {
            JsonNode k = JSON.readTree(key);
            String type = k.path("keytype").asText("");
            JsonNode subjectNode = k.get("subject");
            String subject =
                    subjectNode == null || subjectNode.isNull() ? null : subjectNode.asText();
            switch (type) {
                case "SCHEMA" -> {
                    int version = k.path("version").asInt();
                    if (value == null) {
                        return new SchemaTombstone(subject, version);
                    }
                    JsonNode v = JSON.readTree(value);
                    return new SchemaRecord(
                            v.path("subject").asText(subject),
                            v.path("version").asInt(version),
                            v.path("id").asInt(),
                            v.path("schema").asText(),
                            v.path("deleted").asBoolean(false));
                }
                case "CONFIG" -> {
                    if (value == null) {
                        return new ConfigRecord(subject, null);
                    }
                    JsonNode v = JSON.readTree(value);
                    CompatibilityLevel level =
                            CompatibilityLevel.parse(v.path("compatibilityLevel").asText());
                    if (level == null) {
                        throw new IllegalArgumentException("unknown compatibility level in " + v);
                    }
                    return new ConfigRecord(subject, level);
                }
                default -> throw new IllegalArgumentException("unknown key type '" + type + "'");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
    }
}

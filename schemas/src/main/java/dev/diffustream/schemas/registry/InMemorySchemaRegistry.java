package dev.diffustream.schemas.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * A registry held in memory, for unit tests that need no I/O (TopologyTestDriver, serde tests).
 * Applies BACKWARD compatibility against the latest version, like the default of a real registry.
 */
public final class InMemorySchemaRegistry implements SchemaRegistry {

    private final Map<Integer, Schema> byId = new HashMap<>();
    private final Map<String, Integer> idByCanonical = new HashMap<>();
    private final Map<String, List<Integer>> versions = new HashMap<>();

    @Override
    public synchronized int register(String subject, Schema schema) {
        String canonical = schema.toString();
        List<Integer> ids = versions.computeIfAbsent(subject, s -> new ArrayList<>());
        Integer existing = idByCanonical.get(canonical);
        if (existing != null && ids.contains(existing)) {
            return existing;
        }
        if (!ids.isEmpty() && !compatibleWithLatest(subject, schema)) {
            throw new SchemaRegistryException(
                    "in-memory registry: schema for subject '"
                            + subject
                            + "' is incompatible with its latest version (BACKWARD)",
                    409,
                    409);
        }
        int id = existing != null ? existing : byId.size() + 1;
        byId.put(id, schema);
        idByCanonical.put(canonical, id);
        ids.add(id);
        return id;
    }

    @Override
    public synchronized Schema schemaById(int id) {
        Schema schema = byId.get(id);
        if (schema == null) {
            throw new SchemaRegistryException(
                    "in-memory registry: no schema with id " + id, 404, 40403);
        }
        return schema;
    }

    @Override
    public synchronized SchemaVersion latest(String subject) {
        List<Integer> ids = versions.get(subject);
        if (ids == null || ids.isEmpty()) {
            throw new SchemaRegistryException(
                    "in-memory registry: subject '" + subject + "' not found", 404, 40401);
        }
        int id = ids.get(ids.size() - 1);
        return new SchemaVersion(subject, ids.size(), id, byId.get(id));
    }

    @Override
    public synchronized boolean isCompatible(String subject, Schema schema) {
        List<Integer> ids = versions.get(subject);
        return ids == null || ids.isEmpty() || compatibleWithLatest(subject, schema);
    }

    private boolean compatibleWithLatest(String subject, Schema schema) {
        Schema latest = latest(subject).schema();
        return SchemaCompatibility.checkReaderWriterCompatibility(schema, latest).getType()
                == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE;
    }

    @Override
    public synchronized List<String> subjects() {
        return new ArrayList<>(versions.keySet());
    }

    @Override
    public String compatibility() {
        return "BACKWARD";
    }
}

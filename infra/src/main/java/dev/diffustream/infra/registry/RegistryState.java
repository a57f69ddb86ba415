package dev.diffustream.infra.registry;

import dev.diffustream.infra.registry.LogRecord.ConfigRecord;
import dev.diffustream.infra.registry.LogRecord.SchemaRecord;
import dev.diffustream.infra.registry.LogRecord.SchemaTombstone;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The registry's state, derived only by applying the store topic's records in order: a
 * deterministic fold, so every instance reading the same log (and a restarted one) holds the same
 * ids. A record that contradicts what is already there (an id bound to another schema, a version
 * bound to another id: the loser of a race between two instances) is ignored.
 *
 * <p>Not thread-safe; {@link RegistryService} guards it.
 */
final class RegistryState {

    /** A version of a subject. */
    record Version(String subject, int version, int id, boolean deleted) {}

    private final Map<Integer, String> schemaById = new HashMap<>();
    private final Map<String, Integer> idBySchema = new HashMap<>();
    private final Map<String, NavigableMap<Integer, Version>> subjects = new TreeMap<>();
    private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
    private CompatibilityLevel globalLevel;
    private final CompatibilityLevel defaultLevel;
    private int maxId;

    RegistryState(CompatibilityLevel defaultLevel) {
        this.defaultLevel = defaultLevel;
    }

    /**
     * Applies one record of the log.
     *
     * @return whether it changed (or confirmed) the state; {@code false} if ignored as conflicting
     */
    boolean apply(LogRecord record) {
        if (record instanceof SchemaRecord r) {
            return applySchema(r);
        } else if (record instanceof SchemaTombstone t) {
            NavigableMap<Integer, Version> versions = subjects.get(t.subject());
            if (versions != null) {
                versions.remove(t.version());
                if (versions.isEmpty()) {
                    subjects.remove(t.subject());
                }
            }
            return true;
        } else if (record instanceof ConfigRecord c) {
            if (c.subject() == null) {
                globalLevel = c.level();
            } else if (c.level() == null) {
                subjectLevels.remove(c.subject());
            } else {
                subjectLevels.put(c.subject(), c.level());
            }
            return true;
        }
        return false;
    }

    private boolean applySchema(SchemaRecord r) {
        String bound = schemaById.get(r.id());
        if (bound != null && !bound.equals(r.schema())) {
            return false; // the id went to another schema first
        }
        Integer knownId = idBySchema.get(r.schema());
        if (knownId != null && knownId != r.id()) {
            return false; // this schema already has another id
        }
        NavigableMap<Integer, Version> versions = subjects.get(r.subject());
        Version existing = versions == null ? null : versions.get(r.version());
        if (existing != null && existing.id() != r.id()) {
            return false; // the version went to another schema first
        }
        if (existing == null && !r.deleted() && versions != null) {
            for (Version v : versions.values()) {
                if (!v.deleted() && v.id() == r.id()) {
                    return false; // already registered under this subject (a concurrent duplicate)
                }
            }
        }
        schemaById.put(r.id(), r.schema());
        idBySchema.put(r.schema(), r.id());
        maxId = Math.max(maxId, r.id());
        subjects.computeIfAbsent(r.subject(), s -> new TreeMap<>())
                .put(r.version(), new Version(r.subject(), r.version(), r.id(), r.deleted()));
        return true;
    }

    Optional<String> schema(int id) {
        return Optional.ofNullable(schemaById.get(id));
    }

    Optional<Integer> idOf(String canonicalSchema) {
        return Optional.ofNullable(idBySchema.get(canonicalSchema));
    }

    int maxId() {
        return maxId;
    }

    /** Versions of a subject, oldest first (optionally with soft-deleted ones). */
    List<Version> versions(String subject, boolean includeDeleted) {
        NavigableMap<Integer, Version> versions = subjects.get(subject);
        List<Version> out = new ArrayList<>();
        if (versions != null) {
            for (Version v : versions.values()) {
                if (includeDeleted || !v.deleted()) {
                    out.add(v);
                }
            }
        }
        return out;
    }

    Optional<Version> version(String subject, int version) {
        NavigableMap<Integer, Version> versions = subjects.get(subject);
        return versions == null ? Optional.empty() : Optional.ofNullable(versions.get(version));
    }

    /** The highest version number ever used by a subject (deleted ones included), or 0. */
    int maxVersion(String subject) {
        NavigableMap<Integer, Version> versions = subjects.get(subject);
        return versions == null || versions.isEmpty() ? 0 : versions.lastKey();
    }

    /** Subjects, sorted (optionally those whose versions are all soft-deleted). */
    List<String> subjects(boolean includeDeleted) {
        List<String> out = new ArrayList<>();
        for (String s : subjects.keySet()) {
            if (!versions(s, includeDeleted).isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    /** Every (subject, version) that uses an id. */
    List<Version> usesOf(int id) {
        List<Version> out = new ArrayList<>();
        for (NavigableMap<Integer, Version> versions : subjects.values()) {
            for (Version v : versions.values()) {
                if (v.id() == id && !v.deleted()) {
                    out.add(v);
                }
            }
        }
        return out;
    }

    CompatibilityLevel globalLevel() {
        return globalLevel == null ? defaultLevel : globalLevel;
    }

    Optional<CompatibilityLevel> subjectLevel(String subject) {
        return Optional.ofNullable(subjectLevels.get(subject));
    }

    CompatibilityLevel effectiveLevel(String subject) {
        return subjectLevel(subject).orElse(globalLevel());
    }
}

package dev.diffustream.infra.registry;

import dev.diffustream.infra.registry.CompatibilityLevel.Problem;
import dev.diffustream.infra.registry.CompatibilityLevel.Versioned;
import dev.diffustream.infra.registry.LogRecord.ConfigRecord;
import dev.diffustream.infra.registry.LogRecord.SchemaRecord;
import dev.diffustream.infra.registry.LogRecord.SchemaTombstone;
import dev.diffustream.infra.registry.RegistryState.Version;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The operations of the Confluent Schema Registry API over a {@link RegistryState} kept in a {@link
 * SchemaLog}. Reads answer from the local state; writes are serialized in this process, appended to
 * the log, and confirmed by reading the state back: if another instance won a race for the same id
 * or version, the write is repaired (so log compaction keeps the winner) and retried.
 */
final class RegistryService implements AutoCloseable {

    private static final int MAX_ATTEMPTS = 5;

    private final SchemaLog log;
    private final RegistryState state;
    private final ReentrantLock writes = new ReentrantLock();

    RegistryService(SchemaLog log, CompatibilityLevel defaultLevel) {
        this.log = log;
        this.state = new RegistryState(defaultLevel);
    }

    void start() {
        log.start(
                record -> {
                    synchronized (state) {
                        state.apply(record);
                    }
                });
    }

    /** A registered version as the API shows it. */
    record SubjectVersion(String subject, int version, int id, String schema) {}

    /** Parses and canonicalizes an Avro schema (the form ids are assigned to). */
    static String canonical(String schemaText) {
        if (schemaText == null || schemaText.isBlank()) {
            throw RegistryError.invalidSchema("empty schema");
        }
        try {
            return new Schema.Parser().parse(schemaText).toString();
        } catch (SchemaParseException | org.apache.avro.AvroTypeException e) {
            throw RegistryError.invalidSchema(e.getMessage());
        } catch (RuntimeException e) {
            throw RegistryError.invalidSchema(e.toString());
        }
    }

    /** Registers a schema under a subject (idempotent); returns its id. */
    int register(String subject, String schemaText) {
        String schema = canonical(schemaText);
        writes.lock();
        try {
            for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
                log.catchUp();
                SchemaRecord candidate;
                synchronized (state) {
                    for (Version v : state.versions(subject, false)) {
                        if (state.schema(v.id()).orElseThrow().equals(schema)) {
                            return v.id();
                        }
                    }
                    List<Problem> problems =
                            problems(subject, schema, state.effectiveLevel(subject));
                    if (!problems.isEmpty()) {
                        throw incompatible(subject, problems, state.effectiveLevel(subject));
                    }
                    int id = state.idOf(schema).orElse(state.maxId() + 1);
                    candidate =
                            new SchemaRecord(
                                    subject, state.maxVersion(subject) + 1, id, schema, false);
                }
                log.append(candidate);
                synchronized (state) {
                    Optional<Version> written = state.version(subject, candidate.version());
                    if (written.isPresent()
                            && written.get().id() == candidate.id()
                            && !written.get().deleted()) {
                        return candidate.id();
                    }
                }
                repair(candidate);
            }
            throw RegistryError.store(
                    "could not register under subject '"
                            + subject
                            + "' after "
                            + MAX_ATTEMPTS
                            + " attempts (concurrent writers)");
        } finally {
            writes.unlock();
        }
    }

    /**
     * After losing a race, makes the latest record of the loser's key agree with the state: the
     * winner's record again, or a tombstone if the key holds nothing.
     */
    private void repair(SchemaRecord loser) {
        LogRecord fix;
        synchronized (state) {
            Optional<Version> winner = state.version(loser.subject(), loser.version());
            fix =
                    winner.<LogRecord>map(
                                    w ->
                                            new SchemaRecord(
                                                    w.subject(),
                                                    w.version(),
                                                    w.id(),
                                                    state.schema(w.id()).orElseThrow(),
                                                    w.deleted()))
                            .orElseGet(() -> new SchemaTombstone(loser.subject(), loser.version()));
        }
        log.append(fix);
    }

    private List<Problem> problems(String subject, String schema, CompatibilityLevel level) {
        List<Versioned> previous = new ArrayList<>();
        for (Version v : state.versions(subject, false)) {
            previous.add(
                    new Versioned(
                            v.version(),
                            new Schema.Parser().parse(state.schema(v.id()).orElseThrow())));
        }
        return level.check(new Schema.Parser().parse(schema), previous);
    }

    private static RegistryError incompatible(
            String subject, List<Problem> problems, CompatibilityLevel level) {
        String details =
                problems.stream()
                        .map(
                                p ->
                                        "{errorType:'"
                                                + p.errorType()
                                                + "', description:'"
                                                + p.description()
                                                + "', location:'"
                                                + p.location()
                                                + "', oldSchemaVersion: "
                                                + p.oldVersion()
                                                + "}")
                        .collect(Collectors.joining(", "));
        return new RegistryError(
                409,
                409,
                "Schema being registered is incompatible with an earlier schema for subject \""
                        + subject
                        + "\", details: ["
                        + details
                        + ", {compatibility: '"
                        + level
                        + "'}]");
    }

    /** The version of {@code subject} holding this schema. */
    SubjectVersion lookup(String subject, String schemaText, boolean includeDeleted) {
        String schema = canonical(schemaText);
        synchronized (state) {
            List<Version> versions = state.versions(subject, includeDeleted);
            if (versions.isEmpty()) {
                throw RegistryError.subjectNotFound(subject);
            }
            for (Version v : versions) {
                String s = state.schema(v.id()).orElseThrow();
                if (s.equals(schema)) {
                    return new SubjectVersion(subject, v.version(), v.id(), s);
                }
            }
            throw RegistryError.schemaNotFound("Schema");
        }
    }

    String schemaById(int id) {
        synchronized (state) {
            return state.schema(id).orElseThrow(() -> RegistryError.schemaNotFound("Schema " + id));
        }
    }

    List<Version> usesOf(int id) {
        synchronized (state) {
            if (state.schema(id).isEmpty()) {
                throw RegistryError.schemaNotFound("Schema " + id);
            }
            return state.usesOf(id);
        }
    }

    List<String> subjects(boolean includeDeleted) {
        synchronized (state) {
            return state.subjects(includeDeleted);
        }
    }

    List<Integer> versions(String subject, boolean includeDeleted) {
        synchronized (state) {
            List<Version> versions = state.versions(subject, includeDeleted);
            if (versions.isEmpty()) {
                throw RegistryError.subjectNotFound(subject);
            }
            return versions.stream().map(Version::version).toList();
        }
    }

    /** A version by number, or the latest for {@code "latest"} / {@code -1}. */
    SubjectVersion version(String subject, String versionText, boolean includeDeleted) {
        int number = parseVersion(versionText);
        synchronized (state) {
            List<Version> versions = state.versions(subject, includeDeleted);
            if (versions.isEmpty()) {
                throw RegistryError.subjectNotFound(subject);
            }
            Version v;
            if (number == -1) {
                v = versions.get(versions.size() - 1);
            } else {
                v =
                        versions.stream()
                                .filter(x -> x.version() == number)
                                .findFirst()
                                .orElseThrow(
                                        () -> RegistryError.versionNotFound(subject, versionText));
            }
            return new SubjectVersion(
                    subject, v.version(), v.id(), state.schema(v.id()).orElseThrow());
        }
    }

    static int parseVersion(String text) {
        if ("latest".equalsIgnoreCase(text)) {
            return -1;
        }
        try {
            int v = Integer.parseInt(text);
            if (v == -1 || v >= 1) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw RegistryError.invalidVersion(text);
    }

    /** Soft-deletes every version of a subject; returns the deleted version numbers. */
    List<Integer> deleteSubject(String subject) {
        writes.lock();
        try {
            log.catchUp();
            List<Version> versions;
            synchronized (state) {
                versions = state.versions(subject, false);
            }
            if (versions.isEmpty()) {
                throw RegistryError.subjectNotFound(subject);
            }
            for (Version v : versions) {
                log.append(
                        new SchemaRecord(subject, v.version(), v.id(), schemaById(v.id()), true));
            }
            return versions.stream().map(Version::version).toList();
        } finally {
            writes.unlock();
        }
    }

    /** Soft-deletes one version; returns its number. */
    int deleteVersion(String subject, String versionText) {
        writes.lock();
        try {
            log.catchUp();
            SubjectVersion v = version(subject, versionText, false);
            log.append(new SchemaRecord(subject, v.version(), v.id(), v.schema(), true));
            return v.version();
        } finally {
            writes.unlock();
        }
    }

    /** Whether a schema may be registered, checked against one version (or all for transitive). */
    List<Problem> compatibility(String subject, String versionText, String schemaText) {
        String schema = canonical(schemaText);
        int number = parseVersion(versionText);
        synchronized (state) {
            List<Version> versions = state.versions(subject, false);
            if (versions.isEmpty()) {
                throw RegistryError.subjectNotFound(subject);
            }
            CompatibilityLevel level = state.effectiveLevel(subject);
            if (number != -1) {
                Version v =
                        versions.stream()
                                .filter(x -> x.version() == number)
                                .findFirst()
                                .orElseThrow(
                                        () -> RegistryError.versionNotFound(subject, versionText));
                Versioned old =
                        new Versioned(
                                v.version(),
                                new Schema.Parser().parse(state.schema(v.id()).orElseThrow()));
                return level.check(new Schema.Parser().parse(schema), List.of(old));
            }
            return problems(subject, schema, level);
        }
    }

    CompatibilityLevel globalLevel() {
        synchronized (state) {
            return state.globalLevel();
        }
    }

    Optional<CompatibilityLevel> subjectLevel(String subject) {
        synchronized (state) {
            return state.subjectLevel(subject);
        }
    }

    /** Sets the global ({@code subject == null}) or a subject's level. */
    void setLevel(String subject, CompatibilityLevel level) {
        writes.lock();
        try {
            log.append(new ConfigRecord(subject, level));
        } finally {
            writes.unlock();
        }
    }

    /** Removes a subject's level; returns the level it had. */
    CompatibilityLevel clearLevel(String subject) {
        writes.lock();
        try {
            CompatibilityLevel had =
                    subjectLevel(subject).orElseThrow(() -> RegistryError.noSubjectConfig(subject));
            log.append(new ConfigRecord(subject, null));
            return had;
        } finally {
            writes.unlock();
        }
    }

    String describeStore() {
        return log.describe();
    }

    @Override
    public void close() {
        log.close();
    }
}

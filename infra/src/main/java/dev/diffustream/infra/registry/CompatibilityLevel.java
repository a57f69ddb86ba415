package dev.diffustream.infra.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * The compatibility levels of the Confluent Schema Registry, checked with Avro's {@link
 * SchemaCompatibility}. BACKWARD: the new schema reads data written with the previous one; FORWARD:
 * the previous schema reads data written with the new one; FULL: both. The {@code _TRANSITIVE}
 * forms check against every earlier version instead of only the latest.
 */
public enum CompatibilityLevel {
    NONE(false, false, false),
    BACKWARD(true, false, false),
    BACKWARD_TRANSITIVE(true, false, true),
    FORWARD(false, true, false),
    FORWARD_TRANSITIVE(false, true, true),
    FULL(true, true, false),
    FULL_TRANSITIVE(true, true, true);

    private final boolean backward;
    private final boolean forward;
    private final boolean transitive;

    CompatibilityLevel(boolean backward, boolean forward, boolean transitive) {
        this.backward = backward;
        this.forward = forward;
        this.transitive = transitive;
    }

    /** Parses a level name case-insensitively; {@code null} if it is not one. */
    public static CompatibilityLevel parse(String name) {
        if (name == null) {
            return null;
        }
        try {
            return valueOf(name.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** One reason why a schema is incompatible with one earlier version. */
    public record Problem(int oldVersion, String errorType, String description, String location) {}

    /**
     * Checks {@code candidate} against the earlier versions of a subject.
     *
     * @param previous earlier (non-deleted) versions, oldest first, as (version, schema)
     * @return the problems; empty if compatible
     */
    public List<Problem> check(Schema candidate, List<Versioned> previous) {
        List<Problem> problems = new ArrayList<>();
        if (this == NONE || previous.isEmpty()) {
            return problems;
        }
        List<Versioned> against =
                transitive ? previous : List.of(previous.get(previous.size() - 1));
        for (Versioned old : against) {
            if (backward) {
                // The new schema must read what the old one wrote.
                collect(
                        SchemaCompatibility.checkReaderWriterCompatibility(candidate, old.schema()),
                        old.version(),
                        "new",
                        problems);
            }
            if (forward) {
                // The old schema must read what the new one writes.
                collect(
                        SchemaCompatibility.checkReaderWriterCompatibility(old.schema(), candidate),
                        old.version(),
                        "old",
                        problems);
            }
        }
        return problems;
    }

    private static void collect(
            SchemaPairCompatibility result, int oldVersion, String readerIs, List<Problem> out) {
        if (result.getType() == SchemaCompatibilityType.COMPATIBLE) {
            return;
        }
        List<Incompatibility> incompatibilities = result.getResult().getIncompatibilities();
        if (incompatibilities.isEmpty()) {
            out.add(new Problem(oldVersion, "INCOMPATIBLE", result.getDescription(), "/"));
            return;
        }
        for (Incompatibility i : incompatibilities) {
            out.add(
                    new Problem(
                            oldVersion,
                            i.getType().name(),
                            i.getMessage() + " (reading with the " + readerIs + " schema)",
                            i.getLocation()));
        }
    }

    /** A registered version and its schema. */
    public record Versioned(int version, Schema schema) {}
}

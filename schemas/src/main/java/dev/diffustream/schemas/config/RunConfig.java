package dev.diffustream.schemas.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Identity and root seed of a run (recipe section {@code run}). Every component's seed is split
 * from {@link #seed} (STYLE rule 13).
 */
public record RunConfig(
        @JsonPropertyDescription("Run id: names the run directory and is carried by every event.")
                String id,
        @JsonPropertyDescription("Root seed of the run; every component's seed is derived from it.")
                long seed,
        @JsonPropertyDescription(
                        "Directory under which run directories (checkpoints, metrics, plots) are"
                                + " written.")
                String dir) {

    public RunConfig {
        if (id == null || id.isBlank() || !id.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException(
                    "run.id must be non-empty and use only letters, digits, '.', '_' or '-', got '"
                            + id
                            + "'");
        }
        if (dir == null || dir.isBlank()) {
            throw new IllegalArgumentException("run.dir must not be empty");
        }
    }

    public static RunConfig defaults() {
        return new RunConfig("local", 42L, "runs");
    }
}

package dev.diffustream.policy.tasks;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the shared real data ({@code HumanEval.jsonl.gz}, {@code mbpp.jsonl}) for integration
 * tests: the system property {@code diffustream.data} or the environment variable {@code
 * DIFFUSTREAM_DATA} if set, else {@code <diffustream.root>/data (the vendored copy of the shared
 * data)} (surefire and failsafe pass {@code -Ddiffustream.root=<repository root>}). A missing file
 * fails the test with this explanation; it never skips.
 */
public final class TestData {

    private TestData() {}

    public static Path dataDir() {
        String explicit = System.getProperty("diffustream.data", System.getenv("DIFFUSTREAM_DATA"));
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit).toAbsolutePath().normalize();
        }
        String root = System.getProperty("diffustream.root");
        if (root == null || root.isBlank()) {
            throw new IllegalStateException(
                    "cannot locate the shared data: set -Ddiffustream.data=<dir> or"
                            + " DIFFUSTREAM_DATA, or run through Maven (which passes"
                            + " -Ddiffustream.root)");
        }
        return Path.of(root).resolve("data").toAbsolutePath().normalize();
    }

    /** A data file, which must exist. */
    public static Path file(String name) {
        Path file = dataDir().resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(
                    "missing data file "
                            + file
                            + " (set -Ddiffustream.data=<dir> or DIFFUSTREAM_DATA to the directory"
                            + " holding it)");
        }
        return file;
    }
}

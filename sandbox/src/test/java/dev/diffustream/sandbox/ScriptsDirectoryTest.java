package dev.diffustream.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.infra.testing.ForeignLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scripts directory: its lifetime, and the sweep of those left by processes that died. */
class ScriptsDirectoryTest {

    @TempDir Path tmp;

    @Test
    void shouldHoldTheScriptsUntilClosed() {
        // given a new directory
        ScriptsDirectory d = ScriptsDirectory.create(tmp);

        // then it holds the scripts and its lock file, under the sandbox prefix
        assertThat(d.path().getFileName().toString()).startsWith(ScriptsDirectory.PREFIX);
        assertThat(d.path().resolve("supervisor.py")).isRegularFile();
        assertThat(d.path().resolve("harness.py")).isRegularFile();
        assertThat(d.path().resolve(ScriptsDirectory.LOCK)).isRegularFile();

        // when closed (twice: an engine's error path and its owner may both close it)
        d.close();
        d.close();

        // then it is gone
        assertThat(d.path()).doesNotExist();
    }

    @Test
    void shouldRemoveOnlyDirectoriesWhoseLockNobodyHolds() throws Exception {
        // given a live directory of this JVM, one whose process ended (lock file, no lock), one
        // without a lock file, and an unrelated directory
        ScriptsDirectory live = ScriptsDirectory.create(tmp);
        Path dead = abandoned(Instant.now().minus(Duration.ofHours(1)));
        Path foreign = Files.createDirectory(tmp.resolve(ScriptsDirectory.PREFIX + "nolock"));
        Path other = Files.createDirectory(tmp.resolve("something-else"));
        Files.writeString(other.resolve(ScriptsDirectory.LOCK), "");
        try {
            // when swept
            int removed = ScriptsDirectory.removeStale(tmp, Duration.ZERO);

            // then only the abandoned one is gone
            assertThat(removed).isEqualTo(1);
            assertThat(dead).doesNotExist();
            assertThat(live.path().resolve("supervisor.py")).isRegularFile();
            assertThat(foreign).isDirectory();
            assertThat(other).isDirectory();
        } finally {
            live.close();
        }
    }

    @Test
    void shouldKeepAYoungDirectoryWhoseLockIsNotYetTaken() throws Exception {
        // given an unlocked lock file written a moment ago (an engine between creating and locking)
        Path young = abandoned(Instant.now());

        // when swept with the engines' minimum age
        int removed = ScriptsDirectory.removeStale(tmp, ScriptsDirectory.MIN_STALE_AGE);

        // then it stays
        assertThat(removed).isZero();
        assertThat(young).isDirectory();
    }

    @Test
    void shouldKeepADirectoryLockedByAnotherProcessUntilThatProcessDies() throws Exception {
        // given a directory whose lock file another process holds (fcntl, as a JVM's FileLock)
        Path held = abandoned(Instant.now().minus(Duration.ofHours(1)));
        try (ForeignLock owner =
                ForeignLock.hold(
                        SandboxConfig.defaults().python(), held.resolve(ScriptsDirectory.LOCK))) {
            // when swept while it lives
            assertThat(ScriptsDirectory.removeStale(tmp, Duration.ZERO)).isZero();

            // then the directory stays
            assertThat(held).isDirectory();

            // when the owner is killed (SIGKILL: no cleanup of its own) and the next sweep runs
            owner.kill();
            int removed = ScriptsDirectory.removeStale(tmp, Duration.ZERO);

            // then it is gone
            assertThat(removed).isEqualTo(1);
            assertThat(held).doesNotExist();
        }
    }

    /** A directory as a killed engine leaves it: scripts and an unlocked lock file of that age. */
    private Path abandoned(Instant lockTime) throws Exception {
        Path d = Files.createTempDirectory(tmp, ScriptsDirectory.PREFIX);
        Files.writeString(d.resolve("supervisor.py"), "# script\n");
        Files.createDirectory(d.resolve("__pycache__"));
        Files.writeString(d.resolve("__pycache__").resolve("harness.pyc"), "x");
        Path lock = d.resolve(ScriptsDirectory.LOCK);
        Files.writeString(lock, "");
        Files.setLastModifiedTime(lock, FileTime.from(lockTime));
        return d;
    }
}

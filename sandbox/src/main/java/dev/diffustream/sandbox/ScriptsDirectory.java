package dev.diffustream.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directory an engine's supervisors run their Python scripts from: {@code
 * diffustream-sandbox-*} in the temporary directory, deleted when the engine closes.
 *
 * <p>A process killed with SIGKILL cannot delete it, so every directory carries a lock file that
 * its engine holds locked ({@code fcntl}) while it runs. The kernel drops the lock when the process
 * dies, however it dies. {@link #removeStale} deletes the directories whose lock nobody holds; each
 * engine runs it at start, so crashed sandbox workers do not pile up directories in {@code /tmp}.
 * The lock is a process's, which tells a live engine in another JVM, another container on the same
 * kernel, or this JVM from a dead one; a pid file could not.
 */
final class ScriptsDirectory implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ScriptsDirectory.class);

    static final String PREFIX = "diffustream-sandbox-";
    static final String LOCK = ".owner.lock";

    /**
     * Youngest directory {@link #removeStale} may delete: an engine creates its lock file a moment
     * before it locks it, and a sweep in that moment must not take the directory.
     */
    static final Duration MIN_STALE_AGE = Duration.ofMinutes(1);

    private static final String RESOURCES = "/dev/diffustream/sandbox/python/";
    private static final List<String> SCRIPTS = List.of("boot.py", "harness.py", "supervisor.py");

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private ScriptsDirectory(Path dir, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** Creates and locks a new directory under {@code tmp} holding the sandbox scripts. */
    static ScriptsDirectory create(Path tmp) {
        Path dir;
        try {
            dir =
                    Files.createTempDirectory(
                            tmp,
                            PREFIX,
                            PosixFilePermissions.asFileAttribute(
                                    PosixFilePermissions.fromString("rwxr-xr-x")));
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot create the sandbox scripts directory in " + tmp, e);
        }
        FileChannel channel = null;
        try {
            channel =
                    FileChannel.open(
                            dir.resolve(LOCK),
                            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                            PosixFilePermissions.asFileAttribute(
                                    PosixFilePermissions.fromString("rw-------")));
            FileLock lock = channel.lock();
            for (String name : SCRIPTS) {
                try (InputStream in =
                        ScriptsDirectory.class.getResourceAsStream(RESOURCES + name)) {
                    if (in == null) {
                        throw new IllegalStateException(
                                "missing resource " + RESOURCES + name + " in the sandbox jar");
                    }
                    Path target = dir.resolve(name);
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(
                            target, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
            return new ScriptsDirectory(dir, channel, lock);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            deleteTree(dir);
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot write the sandbox scripts to " + dir, io);
            }
            throw (RuntimeException) e;
        }
    }

    Path path() {
        return dir;
    }

    /** Releases the lock and deletes the directory. */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            // the channel closes below, which releases it too
        }
        closeQuietly(lockChannel);
        deleteTree(dir);
    }

    /**
     * Deletes every {@code diffustream-sandbox-*} directory under {@code tmp} whose lock file is
     * older than {@code minAge} and locked by no process: its engine's process has ended without
     * closing it. Directories without a lock file (made by older versions, or not ours) and those
     * this JVM holds are kept.
     *
     * @return how many directories were deleted
     */
    static int removeStale(Path tmp, Duration minAge) {
        int removed = 0;
        Instant youngest = Instant.now().minus(minAge);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(tmp, PREFIX + "*")) {
            for (Path d : entries) {
                if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS) && isStale(d, youngest)) {
                    deleteTree(d);
                    removed++;
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot list {} for stale sandbox directories: {}", tmp, e.toString());
        }
        if (removed > 0) {
            LOG.info("removed {} sandbox script directories left by ended processes", removed);
        }
        return removed;
    }

    private static boolean isStale(Path d, Instant youngest) {
        Path lockFile = d.resolve(LOCK);
        try {
            if (!Files.isRegularFile(lockFile, LinkOption.NOFOLLOW_LINKS)
                    || Files.getLastModifiedTime(lockFile).toInstant().isAfter(youngest)) {
                return false;
            }
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE);
                    FileLock l = ch.tryLock()) {
                return l != null;
            }
        } catch (OverlappingFileLockException e) {
            return false; // this JVM's own engine
        } catch (NoSuchFileException e) {
            return false; // closed meanwhile
        } catch (IOException e) {
            LOG.debug("cannot check {}: {}", lockFile, e.toString());
            return false;
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot delete {}: {}", dir, e.toString());
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }
}

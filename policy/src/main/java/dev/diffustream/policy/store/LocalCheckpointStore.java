package dev.diffustream.policy.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Checkpoints as directories under a root on a local or shared file system. A checkpoint is written
 * into a hidden temporary sibling, its files are fsynced, then it is renamed into place: a reader
 * never sees a half-written checkpoint under its final name.
 */
public final class LocalCheckpointStore implements CheckpointStore {

    private final Path root;

    public LocalCheckpointStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    @Override
    public URI put(String name, DirectoryWriter writer) throws IOException {
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("bad checkpoint name '" + name + "'");
        }
        Files.createDirectories(root);
        Path target = root.resolve(name);
        Path tmp = Files.createTempDirectory(root, "." + name + ".tmp-");
        try {
            writer.write(tmp);
            try (Stream<Path> files = Files.list(tmp)) {
                for (Path f : files.toList()) {
                    if (Files.isRegularFile(f)) {
                        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                            ch.force(true);
                        }
                    }
                }
            }
            if (Files.exists(target)) {
                // A retried write of the same version after a crash: the old one may be partial.
                deleteTree(target);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            } catch (FileAlreadyExistsException e) {
                throw new IOException("checkpoint " + target + " appeared concurrently", e);
            }
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
        return target.toUri();
    }

    @Override
    public Path fetch(URI uri) throws IOException {
        if (!"file".equals(uri.getScheme())) {
            throw new IOException(
                    "local checkpoint store cannot fetch '" + uri + "': only file:// URIs");
        }
        Path dir = Path.of(uri);
        if (!Files.isDirectory(dir)) {
            throw new IOException("checkpoint directory " + dir + " does not exist");
        }
        return dir;
    }

    @Override
    public void prune(int keep, Set<String> pinned) throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        List<Path> dirs;
        try (Stream<Path> s = Files.list(root)) {
            dirs =
                    s.filter(Files::isDirectory)
                            .filter(p -> !p.getFileName().toString().startsWith("."))
                            .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                            .toList();
        }
        for (int i = 0; i < dirs.size() - keep; i++) {
            Path d = dirs.get(i);
            if (!pinned.contains(d.getFileName().toString())) {
                deleteTree(d);
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder())
                    .forEach(
                            p -> {
                                try {
                                    Files.deleteIfExists(p);
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}

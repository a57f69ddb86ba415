package dev.diffustream.infra.broker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the command line of the broker's child JVM: its classpath (the jars of this JVM's
 * classpath that the broker needs, plus a one-class jar holding {@link BrokerLauncher}) and its
 * flags, including an application class-data-sharing archive that roughly halves the broker's
 * start-up time after the first start with the same classpath.
 *
 * <p>The archive is written by the child when it exits ({@code -XX:ArchiveClassesAtExit}) to a
 * temporary name and moved into place by the parent; the newest {@value #KEEP_ARCHIVES} archives
 * are kept in the cache directory ({@code $DIFFUSTREAM_CACHE_DIR}, else {@code
 * $XDG_CACHE_HOME/diffustream}, else {@code ~/.cache/diffustream}).
 */
public final class BrokerJvm {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerJvm.class);

    /** File names of the jars the broker needs, written at build time (see infra/pom.xml). */
    static final String CLASSPATH_RESOURCE = "/dev/diffustream/infra/broker/broker-classpath.txt";

    private static final int KEEP_ARCHIVES = 4;

    /** A system property naming the data directory, set first on the broker's command line. */
    public static final String MARKER_PROPERTY = "diffustream.broker.dir";

    private final List<Path> classpath;
    private final Optional<Path> sharedArchive;
    private final Optional<Path> archiveToWrite;
    private final Path archiveTarget;

    private BrokerJvm(
            List<Path> classpath,
            Optional<Path> sharedArchive,
            Optional<Path> archiveToWrite,
            Path archiveTarget) {
        this.classpath = classpath;
        this.sharedArchive = sharedArchive;
        this.archiveToWrite = archiveToWrite;
        this.archiveTarget = archiveTarget;
    }

    /**
     * Prepares the child's classpath and class-data-sharing archive.
     *
     * @param classDataSharing whether to use (and create on first use) a shared archive
     */
    public static BrokerJvm prepare(boolean classDataSharing) {
        Path cache = cacheDir();
        List<Path> cp = new ArrayList<>();
        cp.add(launcherJar(cache));
        cp.addAll(brokerJars());
        if (!classDataSharing) {
            return new BrokerJvm(cp, Optional.empty(), Optional.empty(), null);
        }
        Path cds = cache.resolve("cds");
        try {
            Files.createDirectories(cds);
        } catch (IOException e) {
            LOG.debug("no class-data-sharing archive: cannot create {}: {}", cds, e.toString());
            return new BrokerJvm(cp, Optional.empty(), Optional.empty(), null);
        }
        Path target = cds.resolve("broker-" + key(cp) + ".jsa");
        if (Files.isRegularFile(target)) {
            try {
                Files.setLastModifiedTime(target, FileTime.from(Instant.now()));
            } catch (IOException e) {
                LOG.debug("cannot touch {}: {}", target, e.toString());
            }
            return new BrokerJvm(cp, Optional.of(target), Optional.empty(), target);
        }
        prune(cds);
        Path tmp =
                cds.resolve(
                        target.getFileName()
                                + ".tmp-"
                                + ProcessHandle.current().pid()
                                + "-"
                                + System.nanoTime());
        return new BrokerJvm(cp, Optional.empty(), Optional.of(tmp), target);
    }

    /** The full command: java, flags, classpath, launcher main class and its arguments. */
    public List<String> command(
            String heap, boolean fastStartup, Path logbackConfig, Path dataDir) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // First, so that ps and /proc/<pid>/cmdline (read only up to 4 KiB by the JDK) show it.
        cmd.add("-D" + MARKER_PROPERTY + "=" + dataDir);
        cmd.add("-Xmx" + heap);
        cmd.add("-Xms64m");
        // One small heap and two cores: the serial collector starts fastest and pauses little.
        cmd.add("-XX:+UseSerialGC");
        if (fastStartup) {
            // C1 only: a local broker carries little traffic; C2 would spend the start-up
            // compiling.
            cmd.add("-XX:TieredStopAtLevel=1");
        }
        sharedArchive.ifPresent(a -> cmd.add("-XX:SharedArchiveFile=" + a));
        archiveToWrite.ifPresent(a -> cmd.add("-XX:ArchiveClassesAtExit=" + a));
        cmd.add("-Djava.awt.headless=true");
        cmd.add("-Dlogback.configurationFile=" + logbackConfig);
        // Kafka also carries log4j-core for its dynamic log levels; keep it quiet.
        cmd.add("-Dlog4j2.level=WARN");
        cmd.add("-cp");
        cmd.add(
                String.join(
                        java.io.File.pathSeparator,
                        classpath.stream().map(Path::toString).toList()));
        cmd.add(BrokerLauncher.class.getName());
        return cmd;
    }

    /** Called by the parent once the child has exited: moves a freshly written archive in place. */
    public void childExited() {
        if (archiveToWrite.isEmpty()) {
            return;
        }
        Path tmp = archiveToWrite.get();
        try {
            if (Files.isRegularFile(tmp) && Files.size(tmp) > 0) {
                try {
                    Files.move(tmp, archiveTarget, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, archiveTarget, StandardCopyOption.REPLACE_EXISTING);
                }
                LOG.debug("class-data-sharing archive written: {}", archiveTarget);
            } else {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            LOG.debug("cannot install {}: {}", archiveTarget, e.toString());
        }
    }

    /** Whether this start uses an existing shared archive. */
    public boolean usesSharedArchive() {
        return sharedArchive.isPresent();
    }

    /** The child's classpath. */
    public List<Path> classpath() {
        return List.copyOf(classpath);
    }

    static Path cacheDir() {
        String explicit = System.getenv("DIFFUSTREAM_CACHE_DIR");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "diffustream");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "diffustream");
    }

    /**
     * The jars of this JVM's classpath that the broker needs: those named in the build-time list,
     * or every jar if one of the listed is missing (a classpath assembled differently).
     */
    static List<Path> brokerJars() {
        List<Path> jars = expandedClasspath().stream().filter(BrokerJvm::isJar).toList();
        Set<String> wanted = wantedJarNames();
        if (wanted.isEmpty()) {
            return jars;
        }
        List<Path> picked =
                jars.stream()
                        .filter(
                                p -> {
                                    String name = p.getFileName().toString();
                                    return wanted.contains(name) || name.startsWith("logback-");
                                })
                        .toList();
        Set<String> found = new LinkedHashSet<>();
        picked.forEach(p -> found.add(p.getFileName().toString()));
        if (!found.containsAll(wanted)) {
            Set<String> missing = new LinkedHashSet<>(wanted);
            missing.removeAll(found);
            LOG.debug("broker jars {} not on this classpath; giving the broker all jars", missing);
            return jars;
        }
        return picked;
    }

    private static Set<String> wantedJarNames() {
        try (InputStream in = BrokerJvm.class.getResourceAsStream(CLASSPATH_RESOURCE)) {
            if (in == null) {
                return Set.of();
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
            Set<String> names = new LinkedHashSet<>();
            for (String entry : text.split("[:;\\s]+")) {
                if (!entry.isBlank()) {
                    names.add(Path.of(entry).getFileName().toString());
                }
            }
            return names;
        } catch (IOException e) {
            return Set.of();
        }
    }

    /** {@code java.class.path}, with manifest-only jars (Surefire's booter) expanded. */
    static List<Path> expandedClasspath() {
        List<Path> out = new ArrayList<>();
        for (String entry :
                System.getProperty("java.class.path", "").split(java.io.File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path p = Path.of(entry).toAbsolutePath().normalize();
            out.add(p);
            if (isJar(p)) {
                out.addAll(manifestClassPath(p));
            }
        }
        return List.copyOf(new LinkedHashSet<>(out));
    }

    private static List<Path> manifestClassPath(Path jar) {
        try (JarFile jf = new JarFile(jar.toFile())) {
            Manifest mf = jf.getManifest();
            String cp =
                    mf == null ? null : mf.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            if (cp == null || cp.isBlank()) {
                return List.of();
            }
            List<Path> out = new ArrayList<>();
            URI base = jar.getParent().toUri();
            for (String ref : cp.trim().split("\\s+")) {
                try {
                    out.add(Path.of(base.resolve(ref)).normalize());
                } catch (RuntimeException e) {
                    LOG.debug("ignoring Class-Path entry {} of {}: {}", ref, jar, e.toString());
                }
            }
            return out;
        } catch (IOException e) {
            return List.of();
        }
    }

    private static boolean isJar(Path p) {
        return p.getFileName() != null
                && p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jar")
                && Files.isRegularFile(p);
    }

    /**
     * A one-class jar holding {@link BrokerLauncher}, written to the cache and named by the class's
     * hash: the same path from every module's tests and every build, so they share one
     * class-data-sharing archive (which cannot hold classes from directories anyway).
     */
    static Path launcherJar(Path cache) {
        String resource = BrokerLauncher.class.getName().replace('.', '/') + ".class";
        try {
            byte[] bytes;
            try (InputStream in =
                    BrokerLauncher.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("cannot read " + resource);
                }
                bytes = in.readAllBytes();
            }
            Path jar =
                    cache.resolve("launcher")
                            .resolve("broker-launcher-" + sha256(bytes).substring(0, 16) + ".jar");
            if (!Files.isRegularFile(jar)) {
                Files.createDirectories(jar.getParent());
                Path tmp = Files.createTempFile(jar.getParent(), "launcher", ".tmp");
                Manifest mf = new Manifest();
                mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
                try (OutputStream os = Files.newOutputStream(tmp);
                        JarOutputStream jos = new JarOutputStream(os, mf)) {
                    JarEntry e = new JarEntry(resource);
                    // A fixed time keeps the jar byte-identical, so the archive key stays stable.
                    e.setTime(0L);
                    jos.putNextEntry(e);
                    jos.write(bytes);
                    jos.closeEntry();
                }
                Files.setLastModifiedTime(tmp, FileTime.fromMillis(0L));
                try {
                    Files.move(tmp, jar, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    Files.deleteIfExists(tmp);
                    if (!Files.isRegularFile(jar)) {
                        throw e;
                    }
                }
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the broker launcher jar in " + cache, e);
        }
    }

    /** The archive key: JVM, classpath and each jar's size and modification time. */
    private static String key(List<Path> cp) {
        StringBuilder sb = new StringBuilder();
        sb.append(System.getProperty("java.home"))
                .append('|')
                .append(Runtime.version())
                .append('\n');
        for (Path p : cp) {
            sb.append(p);
            try {
                sb.append('|')
                        .append(Files.size(p))
                        .append('|')
                        .append(Files.getLastModifiedTime(p).toMillis());
            } catch (IOException e) {
                sb.append("|?");
            }
            sb.append('\n');
        }
        return sha256(sb.toString().getBytes(StandardCharsets.UTF_8)).substring(0, 16);
    }

    private static void prune(Path cds) {
        try (Stream<Path> files = Files.list(cds)) {
            List<Path> all = files.toList();
            Instant staleTmp = Instant.now().minus(Duration.ofHours(1));
            for (Path p : all) {
                if (p.getFileName().toString().contains(".tmp-")
                        && Files.getLastModifiedTime(p).toInstant().isBefore(staleTmp)) {
                    Files.deleteIfExists(p);
                }
            }
            List<Path> archives =
                    all.stream()
                            .filter(p -> p.getFileName().toString().endsWith(".jsa"))
                            .sorted(Comparator.comparing(BrokerJvm::mtime).reversed())
                            .toList();
            for (Path old :
                    archives.subList(
                            Math.min(archives.size(), KEEP_ARCHIVES - 1), archives.size())) {
                Files.deleteIfExists(old);
            }
        } catch (IOException e) {
            LOG.debug("cannot prune {}: {}", cds, e.toString());
        }
    }

    private static Instant mtime(Path p) {
        try {
            return Files.getLastModifiedTime(p).toInstant();
        } catch (IOException e) {
            return Instant.EPOCH;
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The last {@code n} lines of a text file (for error messages), or an empty string. */
    public static String tail(Path file, int n) {
        if (file == null || !Files.isRegularFile(file)) {
            return "";
        }
        try (BufferedReader r =
                new BufferedReader(
                        new InputStreamReader(
                                Files.newInputStream(file), StandardCharsets.UTF_8))) {
            java.util.ArrayDeque<String> last = new java.util.ArrayDeque<>();
            String line;
            while ((line = r.readLine()) != null) {
                if (last.size() == n) {
                    last.removeFirst();
                }
                last.addLast(line);
            }
            return String.join(System.lineSeparator(), last);
        } catch (IOException e) {
            return "";
        }
    }
}

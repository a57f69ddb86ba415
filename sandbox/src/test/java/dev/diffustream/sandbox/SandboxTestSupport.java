package dev.diffustream.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Helpers shared by the sandbox tests: completions, leak checks. */
final class SandboxTestSupport {
    private SandboxTestSupport() {}

    /** A completion whose whole text is one well-formed python block holding {@code code}. */
    static String py(String code) {
        return "```python\n" + code + (code.endsWith("\n") ? "" : "\n") + "```\n";
    }

    /** A test configuration: two slots and a uid range no other test class uses at once. */
    static SandboxConfig.Builder testConfig() {
        return SandboxConfig.defaults().toBuilder().workers(2).uidBase(64100);
    }

    /** Pids of live processes (zombies included) whose real uid is in [from, to). */
    static List<Long> processesOfUids(int from, int to) {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : proc) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    for (String line :
                            Files.readAllLines(p.resolve("status"), StandardCharsets.UTF_8)) {
                        if (line.startsWith("Uid:")) {
                            int uid = Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
                            if (uid >= from && uid < to) {
                                pids.add(Long.parseLong(name));
                            }
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return pids;
    }

    /** Command lines of live processes anywhere on the host that mention {@code needle}. */
    static List<String> processesMentioning(String needle) {
        List<String> found = new ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : proc) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmd =
                            new String(
                                            Files.readAllBytes(p.resolve("cmdline")),
                                            StandardCharsets.UTF_8)
                                    .replace('\0', ' ');
                    if (cmd.contains(needle)) {
                        found.add(name + " " + cmd);
                    }
                } catch (IOException | RuntimeException e) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return found;
    }

    /** Pids of this JVM's descendants, with their command lines (for leak messages). */
    static List<String> descendants() {
        List<String> out = new ArrayList<>();
        ProcessHandle.current()
                .descendants()
                .filter(ProcessHandle::isAlive)
                .forEach(h -> out.add(h.pid() + " " + state(h.pid()) + " " + commandLine(h)));
        return out;
    }

    /** The command lines of this JVM's live descendants ("?" when unreadable). */
    static List<String> descendantCommandLines() {
        return ProcessHandle.current()
                .descendants()
                .filter(ProcessHandle::isAlive)
                .map(SandboxTestSupport::commandLine)
                .toList();
    }

    private static String commandLine(ProcessHandle h) {
        return h.info().commandLine().orElse("?");
    }

    /** "[state ppid=N comm]" from /proc/PID/stat, so a leak message tells a zombie from a hang. */
    static String state(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            String comm = stat.substring(stat.indexOf('(') + 1, close);
            String[] f = stat.substring(close + 2).split(" ");
            return "[" + f[0] + " ppid=" + f[1] + " " + comm + "]";
        } catch (IOException | RuntimeException e) {
            return "[gone]";
        }
    }

    /**
     * Entries of the host's temporary directory that the sandbox could have made: its own
     * directories, and anything owned by a sandbox uid (the directory is shared with other
     * processes, so the rest of it is not ours to compare).
     */
    static Set<String> tmpEntries() {
        Set<String> names = new TreeSet<>();
        try (DirectoryStream<Path> tmp =
                Files.newDirectoryStream(Path.of(System.getProperty("java.io.tmpdir")))) {
            for (Path p : tmp) {
                String name = p.getFileName().toString();
                int owner = -1;
                try {
                    owner = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                } catch (IOException | RuntimeException e) {
                    // removed while we looked
                }
                if (name.startsWith("diffustream-sandbox-")
                        || name.startsWith("diffustream-unisolated-")
                        || owner >= 60000) {
                    names.add(name);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list the temporary directory", e);
        }
        return names;
    }

    /** Waits up to 5 s for the condition (processes end asynchronously). */
    static boolean eventually(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return condition.getAsBoolean();
    }
}

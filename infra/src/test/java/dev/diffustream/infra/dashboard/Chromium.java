package dev.diffustream.infra.dashboard;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium, started fresh for each call (own temporary profile, no network
 * services, no sandbox: CI runs as root). Fails, never skips, when it is not installed.
 */
final class Chromium {
    private static final long TIMEOUT_SECONDS = 120;

    private final Path binary;
    private final Path logDir;

    private Chromium(Path binary, Path logDir) {
        this.binary = binary;
        this.logDir = logDir;
    }

    /**
     * Finds {@code chromium} (or {@code -Ddiffustream.chromium=PATH}, {@code DIFFUSTREAM_CHROMIUM})
     * on the PATH.
     *
     * @throws AssertionError saying how to install it when it is missing
     */
    static Chromium find(Path logDir) {
        String configured = System.getProperty("diffustream.chromium");
        if (configured == null || configured.isBlank()) {
            configured = System.getenv("DIFFUSTREAM_CHROMIUM");
        }
        return find(logDir, configured, System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    }

    /** Like {@link #find(Path)} with an explicit binary setting and search path. */
    static Chromium find(Path logDir, String configured, String path) {
        List<Path> candidates = new ArrayList<>();
        if (configured != null && !configured.isBlank()) {
            candidates.add(Path.of(configured));
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            candidates.add(Path.of(dir, "chromium"));
            candidates.add(Path.of(dir, "chromium-browser"));
        }
        for (Path p : candidates) {
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return new Chromium(p, logDir);
            }
        }
        throw new AssertionError(
                "headless Chromium is required by the dashboard's browser test but was not found"
                        + " (looked for 'chromium' and 'chromium-browser' on PATH="
                        + path
                        + "). Install it with: apt-get install -y chromium"
                        + " (or point -Ddiffustream.chromium=/path/to/chromium at one)");
    }

    /** The rendered DOM of {@code url} after {@code budgetMs} of virtual time. */
    String dumpDom(URI url, int budgetMs) {
        return run("dump-dom", List.of("--dump-dom", "--virtual-time-budget=" + budgetMs), url);
    }

    /** A PNG screenshot of {@code url} at 1280×1000 after {@code budgetMs} of virtual time. */
    void screenshot(URI url, int budgetMs, Path png) {
        try {
            Files.createDirectories(png.toAbsolutePath().getParent());
            Files.deleteIfExists(png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        run(
                "screenshot",
                List.of(
                        "--screenshot=" + png.toAbsolutePath(),
                        "--window-size=1280,1000",
                        "--hide-scrollbars",
                        "--virtual-time-budget=" + budgetMs),
                url);
    }

    private String run(String what, List<String> extra, URI url) {
        Path profile = null;
        Process process = null;
        try {
            profile = Files.createTempDirectory("dashboard-chromium-");
            List<String> cmd = new ArrayList<>();
            cmd.add(binary.toString());
            cmd.addAll(
                    List.of(
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            "--no-first-run",
                            "--user-data-dir=" + profile));
            cmd.addAll(extra);
            cmd.add(url.toString());
            Files.createDirectories(logDir);
            Path err = logDir.resolve("chromium-" + what + ".log");
            process =
                    new ProcessBuilder(cmd)
                            .redirectError(err.toFile())
                            .redirectInput(
                                    ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                            .start();
            Process p = process;
            java.util.concurrent.CompletableFuture<byte[]> out =
                    java.util.concurrent.CompletableFuture.supplyAsync(
                            () -> {
                                try {
                                    return p.getInputStream().readAllBytes();
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            });
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError(
                        "chromium ("
                                + what
                                + ") did not finish within "
                                + TIMEOUT_SECONDS
                                + " s; its log: "
                                + err);
            }
            String stdout = new String(out.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new AssertionError(
                        "chromium ("
                                + what
                                + ") exited with "
                                + process.exitValue()
                                + "; command "
                                + cmd
                                + "; log "
                                + err
                                + ":\n"
                                + tail(err));
            }
            return stdout;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running chromium", e);
        } catch (java.util.concurrent.ExecutionException
                | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("cannot read chromium's output: " + e, e);
        } finally {
            if (process != null && process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
            if (profile != null) {
                deleteTree(profile);
            }
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary profile is harmless
        }
    }
}

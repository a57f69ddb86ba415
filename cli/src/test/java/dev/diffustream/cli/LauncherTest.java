package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./diffustream} launcher, copied into a scratch tree with a stand-in {@code mvn} (which
 * records its call and writes the jar) and a stand-in {@code java} (which records its arguments).
 */
class LauncherTest {

    private static final Path SCRIPT =
            Path.of(System.getProperty("diffustream.root", ".."), "diffustream");

    @TempDir Path tmp;
    private Path root;
    private Path bin;
    private Path calls;

    @BeforeEach
    void tree() throws Exception {
        root = tmp.resolve("repo");
        bin = tmp.resolve("bin");
        calls = tmp.resolve("calls.txt");
        Files.createDirectories(root.resolve("cli/src/main/java"));
        Files.createDirectories(bin);
        Files.copy(SCRIPT, root.resolve("diffustream"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.writeString(root.resolve("pom.xml"), "<project/>");
        Files.writeString(root.resolve("cli/src/main/java/A.java"), "class A {}");
        executable(
                bin.resolve("mvn"),
                "#!/bin/bash\necho \"mvn $* in $PWD\" >> "
                        + calls
                        + "\n"
                        + "[[ -n \"$FAIL_BUILD\" ]] && { echo 'BUILD FAILURE' >&2; exit 1; }\n"
                        + "mkdir -p cli/target/lib && touch cli/target/diffustream.jar\n");
        executable(
                bin.resolve("java"),
                "#!/bin/bash\nfor a in \"$@\"; do echo \"java-arg: $a\"; done >> " + calls + "\n");
    }

    private static void executable(Path p, String text) throws Exception {
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    record Run(int code, String stderr, List<String> calls) {}

    private Run launch(Map<String, String> env, String... args) throws Exception {
        Files.deleteIfExists(calls);
        List<String> cmd =
                new java.util.ArrayList<>(List.of("bash", root.resolve("diffustream").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb =
                new ProcessBuilder(cmd)
                        .directory(tmp.toFile())
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().remove("JAVA_HOME");
        pb.environment().putAll(env);
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        List<String> recorded = Files.exists(calls) ? Files.readAllLines(calls) : List.of();
        return new Run(p.exitValue(), err, recorded);
    }

    @Test
    void shouldBuildOnFirstRunThenRunTheJvmWithItsFlagsAndTheArguments() throws Exception {
        // when launched from another directory on a tree that was never built
        Run first = launch(Map.of(), "topics", "list", "two words");

        // then it builds from the root, says so on stderr, and runs Main with the arguments intact
        assertThat(first.code()).as(first.stderr()).isZero();
        assertThat(first.stderr()).contains("building diffustream (first run takes a minute)");
        assertThat(first.calls().get(0))
                .isEqualTo("mvn -q -B -DskipTests -Dquick install in " + root);
        assertThat(first.calls())
                .contains(
                        "java-arg: -Dai.djl.offline=true",
                        "java-arg: -XX:+UseParallelGC",
                        "java-arg: "
                                + root
                                + "/cli/target/diffustream.jar:"
                                + root
                                + "/cli/target/lib/*",
                        "java-arg: dev.diffustream.cli.Main",
                        "java-arg: two words");
        assertThat(first.calls()).anySatisfy(c -> assertThat(c).startsWith("java-arg: -Xmx"));
        assertThat(first.calls().subList(first.calls().size() - 3, first.calls().size()))
                .containsExactly("java-arg: topics", "java-arg: list", "java-arg: two words");

        // when launched again with nothing changed, then it does not build
        Run second = launch(Map.of(), "config");
        assertThat(second.calls()).noneMatch(c -> c.startsWith("mvn"));
        assertThat(second.stderr()).doesNotContain("building");
    }

    @Test
    void shouldRebuildWhenASourceOrPomIsNewerThanTheJar() throws Exception {
        // given a built tree
        launch(Map.of());
        Path jar = root.resolve("cli/target/diffustream.jar");
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));
        Files.setLastModifiedTime(
                root.resolve("pom.xml"), FileTime.from(Instant.now().minusSeconds(120)));
        Files.setLastModifiedTime(
                root.resolve("cli/src/main/java/A.java"),
                FileTime.from(Instant.now().minusSeconds(120)));
        assertThat(launch(Map.of()).calls()).noneMatch(c -> c.startsWith("mvn"));

        // when a source file changes, then it rebuilds
        Files.setLastModifiedTime(
                root.resolve("cli/src/main/java/A.java"), FileTime.from(Instant.now()));
        assertThat(launch(Map.of()).calls()).anyMatch(c -> c.startsWith("mvn"));

        // and a changed pom too
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));
        Files.setLastModifiedTime(
                root.resolve("cli/src/main/java/A.java"),
                FileTime.from(Instant.now().minusSeconds(120)));
        Files.setLastModifiedTime(root.resolve("pom.xml"), FileTime.from(Instant.now()));
        assertThat(launch(Map.of()).calls()).anyMatch(c -> c.startsWith("mvn"));
    }

    @Test
    void shouldStopWithAClearMessageWhenTheBuildFails() throws Exception {
        Run r = launch(Map.of("FAIL_BUILD", "1"), "infra");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.stderr()).contains("BUILD FAILURE", "diffustream: the build failed");
        assertThat(r.calls()).noneMatch(c -> c.startsWith("java-arg"));
    }
}

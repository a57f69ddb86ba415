package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.infra.testing.ForeignLock;
import dev.diffustream.sandbox.SandboxConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Local mode's cache: where baselines go, and the lock that serialises pretraining. */
class LocalCacheTest {

    @TempDir Path tmp;

    @Test
    void shouldKeepBaselinesOfAUsersCheckpointInTheCacheNotBesideIt() throws Exception {
        // given the cache, a pretrained model inside it and a user's checkpoint outside it
        Path cache = tmp.resolve("cache");
        Path pretrained = cache.resolve("pretrained/abc/checkpoint");
        Path user = checkpoint(tmp.resolve("models/mine"));

        // then the pretrained model's baseline stays beside it, as before
        assertThat(LocalRun.baselineDir(cache, pretrained)).isEqualTo(pretrained.getParent());
        // and the user's goes under the cache, at a key that is stable for the same files
        Path dir = LocalRun.baselineDir(cache, user);
        assertThat(dir.getParent()).isEqualTo(cache.resolve("baselines"));
        assertThat(dir.getFileName().toString()).matches("[0-9a-f]{16}");
        assertThat(LocalRun.baselineDir(cache, user)).isEqualTo(dir);

        // when the user's weights are replaced, the key changes
        Files.setLastModifiedTime(
                user.resolve("model.safetensors"), FileTime.fromMillis(1_700_000_000_000L));
        assertThat(LocalRun.baselineDir(cache, user)).isNotEqualTo(dir);
    }

    @Test
    void shouldWriteJsonWithoutLeavingATemporaryFile() throws Exception {
        Path file = tmp.resolve("baseline-eval-k.json");

        LocalRun.writeJsonAtomically(file, Map.of("passAt1", 0.25));
        LocalRun.writeJsonAtomically(file, Map.of("passAt1", 0.5));

        assertThat(Files.readString(file)).contains("0.5");
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactly(file.getFileName().toString());
        }
    }

    @Test
    void shouldWaitForAnotherProcessHoldingTheCacheLock() throws Exception {
        // given another process holding the cache directory's lock (fcntl, as a JVM's FileLock)
        Path dir = Files.createDirectories(tmp.resolve("pretrained/key"));
        Files.writeString(dir.resolve(".lock"), "");
        try (ForeignLock other =
                ForeignLock.hold(SandboxConfig.defaults().python(), dir.resolve(".lock"))) {
            // when this process wants the directory
            CountDownLatch waiting = new CountDownLatch(1);
            AtomicBoolean ran = new AtomicBoolean();
            CompletableFuture<String> result =
                    CompletableFuture.supplyAsync(
                            () -> {
                                try {
                                    return LocalRun.underCacheLock(
                                            dir,
                                            waiting::countDown,
                                            () -> {
                                                ran.set(true);
                                                return "done";
                                            });
                                } catch (Exception e) {
                                    throw new IllegalStateException(e);
                                }
                            });

            // then it says it waits, and does not run while the other holds the lock
            assertThat(waiting.await(10, TimeUnit.SECONDS)).as("waiting reported").isTrue();
            Thread.sleep(300);
            assertThat(ran).as("ran while the other held the lock").isFalse();

            // and it runs once the other process is gone (killed: the kernel drops its lock)
            other.kill();
            assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo("done");
        }

        // and an uncontended lock runs at once, without reporting a wait
        AtomicBoolean waited = new AtomicBoolean();
        assertThat(LocalRun.underCacheLock(dir, () -> waited.set(true), () -> 7)).isEqualTo(7);
        assertThat(waited).isFalse();
    }

    private static Path checkpoint(Path dir) throws Exception {
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.writeString(dir.resolve(f), "{}");
        }
        return dir;
    }
}

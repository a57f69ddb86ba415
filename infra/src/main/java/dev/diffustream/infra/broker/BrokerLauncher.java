package dev.diffustream.infra.broker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The {@code main} of the broker's child JVM: formats the storage (idempotent), then runs {@code
 * kafka.Kafka}, and exits when its parent dies, however it dies.
 *
 * <p>The parent's death is seen two ways: end-of-file on standard input (the parent holds the write
 * end of the pipe; the kernel closes it when the parent dies, even on {@code kill -9}), and {@link
 * ProcessHandle#onExit()} of the parent PID as a backup. Either way the JVM exits through {@link
 * System#exit}, so Kafka's own shutdown hook stops the broker cleanly; a halt timer bounds that.
 * Only JDK and Kafka classes may be used here: this class is run from a one-class jar.
 *
 * <p>Arguments: {@code <parent pid> <server.properties> <cluster id to format with, or "-" if
 * formatted already> <data dir to delete when the parent dies, or "-">}.
 */
public final class BrokerLauncher {

    /** How long Kafka's own shutdown may take after the parent died before the JVM is halted. */
    private static final long HALT_AFTER_MS = 20_000;

    private static final AtomicBoolean PARENT_GONE = new AtomicBoolean();

    private BrokerLauncher() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println(
                    "usage: BrokerLauncher <parent pid> <server.properties> <cluster id>"
                            + " <data dir to delete when orphaned|->");
            System.exit(2);
        }
        long parentPid = Long.parseLong(args[0]);
        String config = args[1];
        String clusterId = args[2];
        String deleteWhenOrphaned = args[3];

        watchParent(parentPid);
        if (!"-".equals(deleteWhenOrphaned)) {
            Runtime.getRuntime()
                    .addShutdownHook(
                            new Thread(
                                    () -> deleteIfOrphaned(Path.of(deleteWhenOrphaned)),
                                    "delete-data-when-orphaned"));
        }

        // "-": a data directory reused across runs, already formatted, keeps its cluster id.
        if (!"-".equals(clusterId)) {
            int rc =
                    kafka.tools.StorageTool.execute(
                            new String[] {"format", "-t", clusterId, "-c", config}, System.out);
            if (rc != 0) {
                System.err.println("kafka storage format failed with exit code " + rc);
                System.exit(rc);
            }
        }
        kafka.Kafka.main(new String[] {config});
    }

    private static void watchParent(long parentPid) {
        Thread stdinWatch =
                new Thread(
                        () -> {
                            try (InputStream in = System.in) {
                                byte[] buffer = new byte[64];
                                while (in.read(buffer) >= 0) {
                                    // The parent never writes; anything read is ignored.
                                }
                            } catch (IOException e) {
                                // A broken pipe means the same as end-of-file.
                            }
                            parentGone("its standard input closed");
                        },
                        "parent-stdin-watch");
        stdinWatch.setDaemon(true);
        stdinWatch.start();

        ProcessHandle.of(parentPid)
                .ifPresentOrElse(
                        parent ->
                                parent.onExit()
                                        .thenRun(
                                                () ->
                                                        parentGone(
                                                                "process "
                                                                        + parentPid
                                                                        + " exited")),
                        () -> parentGone("process " + parentPid + " does not exist"));
    }

    private static void parentGone(String why) {
        if (!PARENT_GONE.compareAndSet(false, true)) {
            return;
        }
        System.err.println("diffustream: parent gone (" + why + "); stopping the broker");
        Thread halt =
                new Thread(
                        () -> {
                            try {
                                Thread.sleep(HALT_AFTER_MS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            Runtime.getRuntime().halt(1);
                        },
                        "halt-timer");
        halt.setDaemon(true);
        halt.start();
        // System.exit from a fresh thread: the caller may be a thread the shutdown waits on.
        new Thread(() -> System.exit(0), "exit-orphaned").start();
    }

    private static void deleteIfOrphaned(Path dir) {
        if (!PARENT_GONE.get()) {
            return; // the parent is alive and cleans up after reading the broker log
        }
        awaitKafkaShutdown();
        try {
            deleteRecursively(dir);
        } catch (IOException e) {
            System.err.println("cannot delete " + dir + ": " + e);
        }
    }

    /** Kafka stops the broker in its own shutdown hook; the data goes only after it is done. */
    private static void awaitKafkaShutdown() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if ("kafka-shutdown-hook".equals(t.getName()) && t != Thread.currentThread()) {
                try {
                    t.join(HALT_AFTER_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

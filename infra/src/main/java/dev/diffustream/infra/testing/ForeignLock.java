package dev.diffustream.infra.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * For tests of cross-process file locks: another process (a Python interpreter) that holds an
 * exclusive {@code fcntl} lock on a file, the kind a JVM's {@code FileChannel.lock()} takes and
 * sees. {@link #kill()} ends it with SIGKILL, as a crash would: the kernel then drops the lock.
 */
public final class ForeignLock implements AutoCloseable {

    private final Process process;

    private ForeignLock(Process process) {
        this.process = process;
    }

    /**
     * Starts the process and returns once it holds the lock.
     *
     * @param python the interpreter (the sandbox's, not a PATH lookup that may find a shim)
     * @param file an existing file
     */
    public static ForeignLock hold(String python, Path file) throws IOException {
        Process p =
                new ProcessBuilder(
                                python,
                                "-c",
                                "import fcntl, sys, time\n"
                                        + "f = open(sys.argv[1], 'r+')\n"
                                        + "fcntl.lockf(f, fcntl.LOCK_EX)\n"
                                        + "print('locked', flush=True)\n"
                                        + "time.sleep(300)\n",
                                file.toString())
                        .redirectErrorStream(true)
                        .start();
        BufferedReader out =
                new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (!"locked".equals(line)) {
            p.destroyForcibly();
            throw new IOException("the lock holder did not take the lock on " + file + ": " + line);
        }
        return new ForeignLock(p);
    }

    /** SIGKILL, then waits for the process to end (its lock is gone after this returns). */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the lock holder survived SIGKILL for 10 s");
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}

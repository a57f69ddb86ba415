package dev.diffustream.cli;

import java.util.concurrent.CountDownLatch;

/**
 * Runs a long-lived service on the calling thread until it returns or the JVM is asked to stop
 * (SIGINT/SIGTERM). On a signal the shutdown hook closes the service, so that it finishes its
 * current transaction and nothing in flight is lost, and then waits until the command has closed
 * everything it opened: the loop is opened first and closed last, so the JVM exits only after the
 * resources opened inside it are released.
 *
 * <pre>{@code
 * try (ServiceLoop loop = ServiceLoop.open("sandbox");
 *         SandboxEngine engine = SandboxEngine.start(cfg)) {
 *     SandboxService service = new SandboxService(..., engine, ...);
 *     loop.run(service, service::run);
 * }
 * }</pre>
 *
 * <p>Until this class waited for the whole block, the hook returned as soon as the service's loop
 * ended, and the JVM exited while the command was still closing what it had opened: a sandbox
 * service stopped with SIGTERM left its scripts directory behind in the temporary directory.
 *
 * <p>A signal that arrives before {@link #run} (the service is still starting, possibly waiting for
 * a broker) ends the process at once, as before, and a later {@link #run} returns without running
 * the service.
 */
final class ServiceLoop implements AutoCloseable {

    /** A service body. */
    interface Body {
        void run() throws Exception;
    }

    private final Thread hook;
    private final CountDownLatch closed = new CountDownLatch(1);
    private AutoCloseable service;
    private boolean stopping;

    private ServiceLoop(String name) {
        this.hook = new Thread(this::onSignal, name + "-shutdown");
    }

    /** Registers the shutdown hook; open it before the resources the service needs. */
    static ServiceLoop open(String name) {
        ServiceLoop loop = new ServiceLoop(name);
        Runtime.getRuntime().addShutdownHook(loop.hook);
        return loop;
    }

    /**
     * Runs {@code body} until it returns; a signal meanwhile closes {@code service}, which must
     * make {@code body} return.
     */
    void run(AutoCloseable service, Body body) throws Exception {
        synchronized (this) {
            if (stopping) {
                return;
            }
            this.service = service;
        }
        body.run();
    }

    private void onSignal() {
        AutoCloseable s;
        synchronized (this) {
            stopping = true;
            s = service;
        }
        if (s == null) {
            return; // still starting: nothing in flight to finish
        }
        try {
            s.close();
            closed.await();
        } catch (Exception e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Lets a waiting shutdown hook return; removes the hook when no signal came. */
    @Override
    public void close() {
        closed.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down
        }
    }
}

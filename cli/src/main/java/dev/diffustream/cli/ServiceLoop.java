package dev.diffustream.cli;

import java.util.concurrent.CountDownLatch;

/**
 * Runs a long-lived service on the calling thread until it returns or the JVM is asked to stop
 * (SIGINT/SIGTERM): the shutdown hook closes the service and waits for it to finish its current
 * transaction, so nothing in flight is lost.
 */
final class ServiceLoop {
    private ServiceLoop() {}

    /** A service body and how to stop it. */
    interface Body {
        void run() throws Exception;
    }

    static void run(String name, AutoCloseable service, Body body) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        Thread hook =
                new Thread(
                        () -> {
                            try {
                                service.close();
                                done.await();
                            } catch (Exception e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            body.run();
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down
            }
        }
    }
}

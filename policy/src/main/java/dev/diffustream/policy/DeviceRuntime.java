package dev.diffustream.policy;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process-wide PyTorch settings: thread counts (fixed for reproducibility) and autograd mode.
 *
 * <p>DJL reads {@code ai.djl.pytorch.num_threads} and {@code ai.djl.pytorch.num_interop_threads}
 * when the engine first loads. {@link #initialize} sets them when nobody has, loads the engine, and
 * then enforces the intra-op count with {@code torch.set_num_threads} (which may be changed at any
 * time). The inter-op count can only be set before the first inter-op work; we use none, so a late
 * call only logs it.
 *
 * <p>PyTorch's grad mode is <b>per thread</b> and on by default. DJL switches it off on the thread
 * that loads the engine and a {@code GradientCollector} switches it on while open. Inference on any
 * other thread should go through {@link #noGrad} (or {@code PolicyModel.inference()}), otherwise
 * PyTorch records a graph it never needs.
 */
public final class DeviceRuntime {

    /** The DJL engine we use. */
    public static final String ENGINE = "PyTorch";

    static final String THREADS_PROPERTY = "ai.djl.pytorch.num_threads";
    static final String INTEROP_PROPERTY = "ai.djl.pytorch.num_interop_threads";

    private static final Logger LOG = LoggerFactory.getLogger(DeviceRuntime.class);

    private DeviceRuntime() {}

    /**
     * Loads the PyTorch engine with the configured thread counts and resolves the device.
     *
     * @return the device the model should live on
     */
    public static synchronized Device initialize(DeviceConfig config) {
        if (System.getProperty(THREADS_PROPERTY) == null) {
            System.setProperty(THREADS_PROPERTY, Integer.toString(config.threads()));
        }
        if (System.getProperty(INTEROP_PROPERTY) == null) {
            System.setProperty(INTEROP_PROPERTY, Integer.toString(config.interopThreads()));
        }
        Engine.getEngine(ENGINE);
        if (JniUtils.getNumThreads() != config.threads()) {
            LOG.info(
                    "setting PyTorch intra-op threads {} -> {}",
                    JniUtils.getNumThreads(),
                    config.threads());
            JniUtils.setNumThreads(config.threads());
        }
        if (JniUtils.getNumInteropThreads() != config.interopThreads()) {
            LOG.debug(
                    "PyTorch inter-op threads are {} (configured {}); they can only be set before"
                            + " the engine loads and do not affect our results",
                    JniUtils.getNumInteropThreads(),
                    config.interopThreads());
        }
        return config.device().resolve();
    }

    /** The current intra-op thread count of PyTorch. */
    public static int threads() {
        Engine.getEngine(ENGINE);
        return JniUtils.getNumThreads();
    }

    /** A computation that may throw. */
    @FunctionalInterface
    public interface Body<T, E extends Exception> {
        T run() throws E;
    }

    /**
     * Runs {@code body} with PyTorch's intra-op thread count set to {@code threads} on the calling
     * thread, then restores the previous count. For work that has the machine to itself (an
     * evaluation while the pipeline is stopped, a synchronous learner's batch).
     *
     * <p>The count is per thread (OpenMP's {@code nthreads-var}): measured with DJL's libtorch, a
     * thread that already ran PyTorch work keeps its count when another thread sets one, while a
     * thread's first parallel op takes the count most recently set by any thread. So other threads'
     * running work is unaffected, but one that starts using PyTorch while {@code body} runs
     * inherits {@code threads}.
     */
    public static <T, E extends Exception> T withThreads(int threads, Body<T, E> body) throws E {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        int previous = threads();
        if (previous == threads) {
            return body.run();
        }
        JniUtils.setNumThreads(threads);
        try {
            return body.run();
        } finally {
            JniUtils.setNumThreads(previous);
        }
    }

    /**
     * Runs {@code body} with autograd recording off on this thread, restoring the previous mode.
     * Use it for inference on threads other than the one that loaded the engine.
     */
    public static <T> T noGrad(Supplier<T> body) {
        boolean previous = JniUtils.isGradMode();
        if (!previous) {
            return body.get();
        }
        JniUtils.setGradMode(false);
        try {
            return body.get();
        } finally {
            JniUtils.setGradMode(true);
        }
    }
}

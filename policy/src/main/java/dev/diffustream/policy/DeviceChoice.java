package dev.diffustream.policy;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

/**
 * Where the policy runs. {@link #CPU} is the default (our machines have no GPU); {@link #GPU}
 * insists on a GPU and fails clearly without one; {@link #AUTO} takes the first GPU when the engine
 * sees one and the CPU otherwise.
 */
public enum DeviceChoice {
    CPU,
    GPU,
    AUTO;

    /**
     * Resolves the choice against the loaded engine.
     *
     * @throws IllegalStateException if {@link #GPU} is asked for and the engine sees no GPU
     */
    public Device resolve() {
        int gpus = Engine.getEngine(DeviceRuntime.ENGINE).getGpuCount();
        switch (this) {
            case CPU:
                return Device.cpu();
            case GPU:
                if (gpus == 0) {
                    throw new IllegalStateException(
                            "device 'gpu' was requested but the PyTorch engine sees 0 GPUs (is a"
                                    + " CUDA build of pytorch-native on the classpath?); use 'cpu'"
                                    + " or 'auto'");
                }
                return Device.gpu(0);
            case AUTO:
                return gpus > 0 ? Device.gpu(0) : Device.cpu();
            default:
                throw new AssertionError(this);
        }
    }

    /** Parses {@code cpu}, {@code gpu} or {@code auto} (case-insensitive). */
    public static DeviceChoice parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException(
                    "device must be one of cpu, gpu, auto; got '" + text + "'", e);
        }
    }
}

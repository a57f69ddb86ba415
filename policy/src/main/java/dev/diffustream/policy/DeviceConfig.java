package dev.diffustream.policy;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Locale;

/**
 * Where and how the policy's tensors live: device, compute dtype and PyTorch thread counts. Not
 * part of a checkpoint's {@code config.json}; it belongs to the process that loads the model.
 *
 * <p><b>bfloat16.</b> DJL 0.36's PyTorch JNI has no bfloat16 scalar type (creating or casting to
 * one aborts the process), so the compute dtype is {@code float32} or {@code float16}. bfloat16
 * checkpoints (the DiffuCoder release) are converted exactly to float32 in Java on load, and can be
 * written as bfloat16 on save.
 *
 * <p><b>Determinism.</b> Results are bit-identical across runs on one machine only with the same
 * {@link #threads}: the intra-op thread count fixes the summation order of the matmul kernels. A
 * replay must use the value the run used.
 */
public record DeviceConfig(
        @JsonPropertyDescription("Device: cpu (default), gpu (fails without one) or auto.")
                DeviceChoice device,
        @JsonPropertyDescription(
                        "Parameter and activation dtype: float32 (default) or float16 (GPU);"
                                + " logits are always float32.")
                String dtype,
        @JsonPropertyDescription(
                        "PyTorch intra-op threads for this process; fixed so results are"
                                + " reproducible (a replay must use the same value).")
                int threads,
        @JsonPropertyDescription(
                        "PyTorch inter-op threads; only applied if set before the engine first"
                                + " loads.")
                int interopThreads) {

    public DeviceConfig {
        if (device == null) {
            throw new IllegalArgumentException("model.device.device must be cpu, gpu or auto");
        }
        if (dtype == null) {
            throw new IllegalArgumentException("model.device.dtype must be float32 or float16");
        }
        dtype = dtype.trim().toLowerCase(Locale.ROOT);
        if (dtype.equals("bfloat16")) {
            throw new IllegalArgumentException(
                    "model.device.dtype 'bfloat16' is not supported: DJL 0.36's PyTorch JNI has"
                            + " no bfloat16 tensors. Use float32 (or float16 on a GPU); bfloat16"
                            + " checkpoints are converted on load");
        }
        if (!dtype.equals("float32") && !dtype.equals("float16")) {
            throw new IllegalArgumentException(
                    "model.device.dtype must be float32 or float16, got '" + dtype + "'");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("model.device.threads must be >= 1, got " + threads);
        }
        if (interopThreads < 1) {
            throw new IllegalArgumentException(
                    "model.device.interopThreads must be >= 1, got " + interopThreads);
        }
    }

    /**
     * CPU, float32, <b>1</b> intra-op thread, 1 inter-op thread.
     *
     * <p>One thread, although our machines have 2 cores, because the local run puts an actor, a
     * learner, sandboxes and a broker on the same 2 cores: PyTorch's OpenMP pool needs every one of
     * its threads at each parallel op, and with other processes busy a 2-thread model waited for a
     * descheduled thread at nearly every op (a sampler-step forward measured ~0.8 s with 2 threads
     * against ~0.18 s with 1, at a load average of 10). A process alone on an idle machine may set
     * 2.
     */
    public static DeviceConfig defaults() {
        return new DeviceConfig(DeviceChoice.CPU, "float32", 1, 1);
    }

    /** The DJL data type of {@link #dtype}. */
    public DataType dataType() {
        return dtype.equals("float16") ? DataType.FLOAT16 : DataType.FLOAT32;
    }

    /** A copy with another dtype ({@code float32} or {@code float16}). */
    public DeviceConfig withDtype(String newDtype) {
        return new DeviceConfig(device, newDtype, threads, interopThreads);
    }

    /** A copy with another intra-op thread count. */
    public DeviceConfig withThreads(int newThreads) {
        return new DeviceConfig(device, dtype, newThreads, interopThreads);
    }

    /** A copy with another device choice. */
    public DeviceConfig withDevice(DeviceChoice newDevice) {
        return new DeviceConfig(newDevice, dtype, threads, interopThreads);
    }
}

package dev.diffustream.policy.bench;

import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.model.ModelConfig;
import java.nio.file.Path;

/**
 * Options of {@link PolicyBench}.
 *
 * @param model the fresh model to measure (ignored when {@code checkpoint} is set)
 * @param checkpoint a Hugging Face checkpoint directory to load instead, or {@code null}
 * @param rows training batch rows: 3 scoring passes × G = 8 completions × 2 groups = 48
 * @param seqLen sequence length: a 160-token prompt + K = 64 completion tokens = 224
 * @param samplingRows rows of one sampler step: one group of G = 8
 * @param matmulSize n of the n×n fp32 matmul that measures the machine's ceiling
 * @param warmup untimed repetitions before each measurement
 * @param repeats timed repetitions; the median is reported
 */
public record PolicyBenchOptions(
        ModelConfig model,
        Path checkpoint,
        int rows,
        int seqLen,
        int samplingRows,
        int matmulSize,
        int warmup,
        int repeats) {

    public PolicyBenchOptions {
        if (model == null && checkpoint == null) {
            throw new IllegalArgumentException("bench policy needs a model config or a checkpoint");
        }
        positive("rows", rows);
        positive("seqLen", seqLen);
        positive("samplingRows", samplingRows);
        positive("matmulSize", matmulSize);
        positive("repeats", repeats);
        if (warmup < 0) {
            throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
        }
    }

    /** The default tiny model at the training shape (48 × 224), 2 warm-ups, 7 timed runs. */
    public static PolicyBenchOptions defaults() {
        return new PolicyBenchOptions(ModelConfig.defaults(), null, 48, 224, 8, 1024, 2, 7);
    }

    public PolicyBenchOptions withModel(ModelConfig newModel) {
        return new PolicyBenchOptions(
                newModel, checkpoint, rows, seqLen, samplingRows, matmulSize, warmup, repeats);
    }

    public PolicyBenchOptions withCheckpoint(Path dir) {
        return new PolicyBenchOptions(
                model, dir, rows, seqLen, samplingRows, matmulSize, warmup, repeats);
    }

    public PolicyBenchOptions withShape(int newRows, int newSeqLen) {
        return new PolicyBenchOptions(
                model, checkpoint, newRows, newSeqLen, samplingRows, matmulSize, warmup, repeats);
    }

    public PolicyBenchOptions withRepeats(int newWarmup, int newRepeats) {
        return new PolicyBenchOptions(
                model, checkpoint, rows, seqLen, samplingRows, matmulSize, newWarmup, newRepeats);
    }

    /** The same options with {@code threads} PyTorch intra-op threads. */
    public PolicyBenchOptions withThreads(int threads) {
        ModelConfig m = model == null ? ModelConfig.defaults() : model;
        DeviceConfig d = m.device();
        return withModel(
                m.withDevice(new DeviceConfig(d.device(), d.dtype(), threads, d.interopThreads())));
    }

    public PolicyBenchOptions withMatmulSize(int n) {
        return new PolicyBenchOptions(
                model, checkpoint, rows, seqLen, samplingRows, n, warmup, repeats);
    }

    private static void positive(String key, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(key + " must be > 0, got " + v);
        }
    }
}

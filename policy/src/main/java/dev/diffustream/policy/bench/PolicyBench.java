package dev.diffustream.policy.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.model.PolicyModel;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code diffustream bench policy}: how close the model's forward and backward come to the
 * machine's matmul ceiling. Prints JSON lines ({@code "bench": "policy"}):
 *
 * <ol>
 *   <li>{@code name=matmul}: fp32 n×n matmul, 2n³ FLOPs per call, median GFLOP/s — the ceiling;
 *   <li>{@code name=model}: the configuration measured (sizes, parameters, threads, device);
 *   <li>{@code name=forward}: one forward (no autograd) at the training shape (rows × seqLen):
 *       median milliseconds, tokens/s, GFLOP/s from {@link ModelConfig#forwardFlops} and the
 *       fraction of the matmul rate;
 *   <li>{@code name=forward_backward}: zero gradients + forward + log-softmax mean + backward at
 *       the same shape; FLOPs counted as 3 × forward (the usual backward ≈ 2 × forward);
 *   <li>{@code name=forward_sampling}: one forward at the sampler's shape (one group of G rows),
 *       and the implied seconds per 32-step group.
 * </ol>
 *
 * Our machines are shared: run it when they are quiet, and read medians, not single runs.
 */
public final class PolicyBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PolicyBench() {}

    /** Runs every measurement and prints one JSON line per result. */
    public static void run(PolicyBenchOptions o, PrintStream jsonLines) throws IOException {
        try (PolicyModel model = load(o)) {
            ModelConfig c = model.config();
            double matmul = matmulGflops(model, o);
            print(
                    jsonLines,
                    line("matmul")
                            .put("n", o.matmulSize())
                            .put("gflops", round(matmul))
                            .put("threads", DeviceRuntime.threads())
                            .put("repeats", o.repeats()));
            print(
                    jsonLines,
                    line("model")
                            .put("hidden", c.hiddenSize())
                            .put("layers", c.numHiddenLayers())
                            .put("heads", c.numAttentionHeads())
                            .put("kvHeads", c.numKeyValueHeads())
                            .put("intermediate", c.intermediateSize())
                            .put("vocab", c.vocabSize())
                            .put("parameters", model.parameterCount())
                            .put("dtype", model.dataType().toString().toLowerCase(Locale.ROOT))
                            .put("device", model.device().toString())
                            .put("threads", DeviceRuntime.threads()));

            try (NDManager m = NDManager.newBaseManager(model.device())) {
                NDArray train = tokens(m, o.rows(), o.seqLen(), c.vocabSize(), 1);
                double fwd = median(o, () -> model.inference().logits(train, null).close());
                print(jsonLines, rate("forward", c, o.rows(), o.seqLen(), fwd, 1, matmul));

                double fb =
                        median(
                                o,
                                () -> {
                                    model.zeroGradients();
                                    try (GradientCollector gc =
                                            Engine.getInstance().newGradientCollector()) {
                                        NDArray logits = model.logits(train, null);
                                        NDArray loss = logits.logSoftmax(2).mean();
                                        gc.backward(loss);
                                        loss.close();
                                        logits.close();
                                    }
                                });
                print(jsonLines, rate("forward_backward", c, o.rows(), o.seqLen(), fb, 3, matmul));

                NDArray sample = tokens(m, o.samplingRows(), o.seqLen(), c.vocabSize(), 2);
                double step = median(o, () -> model.inference().logits(sample, null).close());
                print(
                        jsonLines,
                        rate("forward_sampling", c, o.samplingRows(), o.seqLen(), step, 1, matmul)
                                .put("secondsPer32Steps", round(32 * step)));
            }
        }
    }

    private static ObjectNode line(String name) {
        return JSON.createObjectNode().put("bench", "policy").put("name", name);
    }

    private static void print(PrintStream out, ObjectNode line) {
        out.println(line.toString());
        out.flush();
    }

    /** A rate line; {@code flopMultiple} is 1 for a forward, 3 for forward + backward. */
    private static ObjectNode rate(
            String name,
            ModelConfig c,
            int rows,
            int seqLen,
            double seconds,
            int flopMultiple,
            double matmulGflops) {
        double gflops = flopMultiple * c.forwardFlops(rows, seqLen) / seconds / 1e9;
        return line(name)
                .put("rows", rows)
                .put("seqLen", seqLen)
                .put("msMedian", round(seconds * 1e3))
                .put("tokensPerSecond", Math.round(rows * (double) seqLen / seconds))
                .put("gflops", round(gflops))
                .put("fractionOfMatmul", Math.round(gflops / matmulGflops * 1000) / 1000.0);
    }

    private static PolicyModel load(PolicyBenchOptions o) throws IOException {
        if (o.checkpoint() != null) {
            ModelConfig device = o.model() == null ? ModelConfig.defaults() : o.model();
            return HfCheckpoint.load(o.checkpoint(), device.device(), true);
        }
        return PolicyModel.create(o.model());
    }

    private static double matmulGflops(PolicyModel model, PolicyBenchOptions o) {
        int n = o.matmulSize();
        try (NDManager m = NDManager.newBaseManager(model.device())) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            double s = median(o, () -> a.matMul(b).close());
            return 2.0 * n * n * (double) n / s / 1e9;
        }
    }

    /** Median wall-clock seconds of {@code repeats} runs after {@code warmup} untimed ones. */
    static double median(PolicyBenchOptions o, Runnable body) {
        for (int i = 0; i < o.warmup(); i++) {
            body.run();
        }
        double[] t = new double[o.repeats()];
        for (int i = 0; i < t.length; i++) {
            long start = System.nanoTime();
            body.run();
            t[i] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(t);
        return t.length % 2 == 1 ? t[t.length / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
    }

    private static NDArray tokens(NDManager m, int rows, int len, int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] ids = new int[rows * len];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(vocab);
        }
        return m.create(ids, new Shape(rows, len)).toType(DataType.INT32, false);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}

package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Fresh weights as Hugging Face's {@code _init_weights} makes them (normal(0, initializer_range)
 * for matrices, zeros for biases, ones for norms, the padding row of the embedding zeroed),
 * generated in Java from a seed so that they are identical on every machine and JVM: each tensor
 * draws from its own {@link SplittableRandom} seeded with {@code initSeed} mixed with a hash of the
 * tensor's HF name, and Gaussians come from Box–Muller with {@link StrictMath}.
 */
public final class SeededInit implements TensorSource {

    private final ModelConfig config;

    public SeededInit(ModelConfig config) {
        this.config = config;
    }

    @Override
    public NDArray read(WeightLayout.HfTensor tensor, NDManager manager, DataType dtype) {
        int n = Math.toIntExact(tensor.shape().size());
        float[] values = new float[n];
        switch (tensor.init()) {
            case ZEROS:
                break;
            case ONES:
                java.util.Arrays.fill(values, 1f);
                break;
            case NORMAL:
                fillNormal(values, seedOf(tensor.name()), config.initializerRange());
                if (tensor.name().equals("model.embed_tokens.weight")
                        && config.padTokenId() != null) {
                    int e = config.hiddenSize();
                    java.util.Arrays.fill(
                            values, config.padTokenId() * e, (config.padTokenId() + 1) * e, 0f);
                }
                break;
            default:
                throw new AssertionError(tensor.init());
        }
        try (NDManager scratch = manager.newSubManager()) {
            NDArray javaBacked = scratch.create(values, tensor.shape()); // aliases a Java buffer
            // Copy into torch-owned (64-byte aligned) memory: identical alignment on every run.
            NDArray owned = TorchMemory.ownedCopy(javaBacked, dtype);
            owned.attach(manager);
            return owned;
        }
    }

    /** The per-tensor seed: {@code initSeed} mixed with the FNV-1a hash of the name. */
    long seedOf(String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return config.initSeed() ^ h;
    }

    private static void fillNormal(float[] out, long seed, double std) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < out.length; i += 2) {
            double u1 = 1.0 - rng.nextDouble(); // (0, 1]
            double u2 = rng.nextDouble();
            double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
            double a = 2.0 * StrictMath.PI * u2;
            out[i] = (float) (std * r * StrictMath.cos(a));
            if (i + 1 < out.length) {
                out[i + 1] = (float) (std * r * StrictMath.sin(a));
            }
        }
    }
}

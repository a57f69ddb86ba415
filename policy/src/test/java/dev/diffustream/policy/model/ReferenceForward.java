package dev.diffustream.policy.model;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * A plain-Java, double-precision, loop-by-loop forward of the Qwen2/Dream architecture, written
 * from the Hugging Face modeling code (not from our DJL blocks): per-head q/k/v projections,
 * rotate_half RoPE, {@code repeat_kv} head mapping, explicit softmax over unpadded keys. Slow and
 * obviously correct; tests compare the DJL model against it.
 */
final class ReferenceForward {

    private final ModelConfig c;
    private final Map<String, float[]> w;

    ReferenceForward(ModelConfig config, Map<String, float[]> weights) {
        this.c = config;
        this.w = weights;
    }

    /** The HF tensors of {@code model} as float arrays. */
    static Map<String, float[]> weightsOf(PolicyModel model) throws IOException {
        Map<String, float[]> out = new HashMap<>();
        model.forEachHfTensor(
                (t, v) ->
                        out.put(
                                t.name(),
                                v.toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                                        .toFloatArray()));
        return out;
    }

    /** Logits (T, V) of one row; {@code mask} may be null. */
    double[][] logits(int[] tokens, int[] mask) {
        int t = tokens.length;
        int e = c.hiddenSize();
        int h = c.numAttentionHeads();
        int hk = c.numKeyValueHeads();
        int d = c.headDim();
        int g = h / hk;
        int[] pos = new int[t];
        boolean[] real = new boolean[t];
        int count = 0;
        for (int i = 0; i < t; i++) {
            boolean r = mask == null || mask[i] == 1;
            count += r ? 1 : 0;
            real[i] = r;
            pos[i] = mask == null ? i : (r ? count - 1 : 1);
        }
        double[][] x = new double[t][e];
        float[] emb = w.get("model.embed_tokens.weight");
        for (int i = 0; i < t; i++) {
            for (int k = 0; k < e; k++) {
                x[i][k] = emb[tokens[i] * e + k];
            }
        }
        for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
            String p = "model.layers." + layer + ".";
            double[][] n = norm(x, w.get(p + "input_layernorm.weight"));
            double[][] q =
                    linear(
                            n,
                            w.get(p + "self_attn.q_proj.weight"),
                            bias(p + "self_attn.q_proj.bias"),
                            h * d);
            double[][] k =
                    linear(
                            n,
                            w.get(p + "self_attn.k_proj.weight"),
                            bias(p + "self_attn.k_proj.bias"),
                            hk * d);
            double[][] v =
                    linear(
                            n,
                            w.get(p + "self_attn.v_proj.weight"),
                            bias(p + "self_attn.v_proj.bias"),
                            hk * d);
            for (int i = 0; i < t; i++) {
                for (int a = 0; a < h; a++) {
                    rope(q[i], a * d, d, pos[i]);
                }
                for (int a = 0; a < hk; a++) {
                    rope(k[i], a * d, d, pos[i]);
                }
            }
            double[][] ctx = new double[t][h * d];
            for (int i = 0; i < t; i++) {
                for (int a = 0; a < h; a++) {
                    int kv = a / g;
                    double[] s = new double[t];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        if (!real[j]) {
                            continue;
                        }
                        double dot = 0;
                        for (int z = 0; z < d; z++) {
                            dot += q[i][a * d + z] * k[j][kv * d + z];
                        }
                        s[j] = dot / Math.sqrt(d);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++) {
                        s[j] = real[j] ? Math.exp(s[j] - max) : 0;
                        sum += s[j];
                    }
                    for (int j = 0; j < t; j++) {
                        for (int z = 0; z < d; z++) {
                            ctx[i][a * d + z] += s[j] / sum * v[j][kv * d + z];
                        }
                    }
                }
            }
            double[][] o = linear(ctx, w.get(p + "self_attn.o_proj.weight"), null, e);
            add(x, o);
            n = norm(x, w.get(p + "post_attention_layernorm.weight"));
            double[][] gate =
                    linear(n, w.get(p + "mlp.gate_proj.weight"), null, c.intermediateSize());
            double[][] up = linear(n, w.get(p + "mlp.up_proj.weight"), null, c.intermediateSize());
            for (int i = 0; i < t; i++) {
                for (int z = 0; z < gate[i].length; z++) {
                    double gz = gate[i][z];
                    gate[i][z] = gz / (1 + Math.exp(-gz)) * up[i][z];
                }
            }
            add(x, linear(gate, w.get(p + "mlp.down_proj.weight"), null, e));
        }
        double[][] n = norm(x, w.get("model.norm.weight"));
        float[] head = c.tieWordEmbeddings() ? emb : w.get("lm_head.weight");
        return linear(n, head, null, c.vocabSize());
    }

    private float[] bias(String name) {
        return w.get(name);
    }

    private double[][] norm(double[][] x, float[] weight) {
        double[][] out = new double[x.length][x[0].length];
        for (int i = 0; i < x.length; i++) {
            double ms = 0;
            for (double a : x[i]) {
                ms += a * a;
            }
            double r = 1 / Math.sqrt(ms / x[i].length + c.rmsNormEps());
            for (int k = 0; k < x[i].length; k++) {
                out[i][k] = weight[k] * x[i][k] * r;
            }
        }
        return out;
    }

    private static double[][] linear(double[][] x, float[] weight, float[] bias, int outDim) {
        int in = x[0].length;
        double[][] out = new double[x.length][outDim];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < outDim; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int k = 0; k < in; k++) {
                    s += weight[o * in + k] * x[i][k];
                }
                out[i][o] = s;
            }
        }
        return out;
    }

    private void rope(double[] vec, int off, int d, int position) {
        int half = d / 2;
        double[] rotated = new double[d];
        for (int z = 0; z < half; z++) {
            rotated[z] = -vec[off + half + z];
            rotated[half + z] = vec[off + z];
        }
        for (int z = 0; z < d; z++) {
            double freq = 1.0 / Math.pow(c.ropeTheta(), (2.0 * (z % half)) / d);
            double angle = position * freq;
            vec[off + z] = vec[off + z] * Math.cos(angle) + rotated[z] * Math.sin(angle);
        }
    }

    private static void add(double[][] x, double[][] y) {
        for (int i = 0; i < x.length; i++) {
            for (int k = 0; k < x[i].length; k++) {
                x[i][k] += y[i][k];
            }
        }
    }
}

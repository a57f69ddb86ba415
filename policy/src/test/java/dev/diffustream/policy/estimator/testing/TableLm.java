package dev.diffustream.policy.estimator.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import dev.diffustream.policy.model.MaskedLm;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny real DJL model for unit tests: the logit row at position j depends on the token at j and
 * the token at j+1 (bidirectional context), plus a bias:
 *
 * <pre>
 *   logits[b, j, :] = A[x_j, :] + C[x_{j+1}, :] + bias     (C term absent for the last j)
 * </pre>
 *
 * With the shift convention, completion token y_k is scored from row P+k−1, i.e. from x_{P+k−1} and
 * x_{P+k} — the latter is MASK whenever y_k is masked, so masks change the estimate. The parameters
 * are trainable and form a {@link ParameterList}. Records every forward call's shape and whether an
 * attention mask was passed.
 */
public final class TableLm implements MaskedLm {

    private final int vocab;
    private final Parameter a;
    private final Parameter c;
    private final Parameter bias;
    private final ParameterList parameters;
    private final List<long[]> calls = new ArrayList<>();
    private final List<Boolean> maskPassed = new ArrayList<>();
    private int[][] lastTokens;

    private TableLm(NDManager manager, float[] aTable, float[] cTable, float[] biasRow, int vocab) {
        this.vocab = vocab;
        this.a = param(manager, "a_weight", aTable, new Shape(vocab, vocab));
        this.c = param(manager, "c_weight", cTable, new Shape(vocab, vocab));
        this.bias = param(manager, "head_bias", biasRow, new Shape(vocab));
        this.parameters = new ParameterList();
        parameters.add("a_weight", a);
        parameters.add("c_weight", c);
        parameters.add("head_bias", bias);
    }

    /** Fixed tables (row-major V×V for A and C). */
    public static TableLm of(NDManager manager, float[] aTable, float[] cTable, float[] biasRow) {
        int vocab = biasRow.length;
        if (aTable.length != vocab * vocab || cTable.length != vocab * vocab) {
            throw new IllegalArgumentException("tables must be V x V with V = " + vocab);
        }
        return new TableLm(manager, aTable, cTable, biasRow, vocab);
    }

    /** Random tables with entries ~ scale·N(0,1) from a seeded java.util.Random. */
    public static TableLm random(NDManager manager, int vocab, double scale, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] at = new float[vocab * vocab];
        float[] ct = new float[vocab * vocab];
        float[] bt = new float[vocab];
        for (int i = 0; i < at.length; i++) {
            at[i] = (float) (scale * r.nextGaussian());
            ct[i] = (float) (scale * r.nextGaussian());
        }
        for (int i = 0; i < vocab; i++) {
            bt[i] = (float) (scale * r.nextGaussian());
        }
        return new TableLm(manager, at, ct, bt, vocab);
    }

    /** Logits equal to {@code biasRow} at every position, whatever the input. */
    public static TableLm constant(NDManager manager, float[] biasRow) {
        int v = biasRow.length;
        return new TableLm(manager, new float[v * v], new float[v * v], biasRow, v);
    }

    private static Parameter param(NDManager manager, String name, float[] data, Shape shape) {
        NDArray array = manager.create(data, shape);
        array.setRequiresGradient(true);
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
        p.setArray(array);
        return p;
    }

    @Override
    public NDArray logits(NDArray tokens, NDArray attentionMask) {
        long[] shape = tokens.getShape().getShape();
        calls.add(shape);
        maskPassed.add(attentionMask != null);
        long rows = shape[0];
        long len = shape[1];
        int[] flat = tokens.toType(DataType.INT32, false).toIntArray();
        lastTokens = new int[(int) rows][];
        for (int b = 0; b < rows; b++) {
            lastTokens[b] =
                    java.util.Arrays.copyOfRange(flat, (int) (b * len), (int) ((b + 1) * len));
        }
        NDManager m = tokens.getManager();
        NDArray ids = tokens.toType(DataType.INT64, false); // (B, T)
        NDArray oneHot = ids.oneHot(vocab).toType(DataType.FLOAT32, false); // (B, T, V)
        NDArray out = oneHot.matMul(a.getArray()); // (B, T, V)
        if (len > 1) {
            NDArray next = oneHot.get(":, 1:, :"); // (B, T-1, V)
            NDArray contrib = next.matMul(c.getArray()); // (B, T-1, V)
            NDArray pad = m.zeros(new Shape(rows, 1, vocab)); // (B, 1, V)
            out = out.add(contrib.concat(pad, 1)); // (B, T, V)
        }
        return out.add(bias.getArray()); // (B, T, V)
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    /** The trainable parameters (names a_weight, c_weight, head_bias). */
    public ParameterList parameters() {
        return parameters;
    }

    /** The trainable parameters by name, in a stable order. */
    public java.util.Map<String, Parameter> parameterMap() {
        java.util.Map<String, Parameter> m = new java.util.LinkedHashMap<>();
        m.put("a_weight", a);
        m.put("c_weight", c);
        m.put("head_bias", bias);
        return m;
    }

    /** Shapes of the token batches of every forward call so far. */
    public List<long[]> calls() {
        return calls;
    }

    /** The token batch of the last forward call, [rows][T]. */
    public int[][] lastTokens() {
        return lastTokens;
    }

    /** For each forward call, whether an attention mask was passed. */
    public List<Boolean> maskPassed() {
        return maskPassed;
    }

    /** Reads A[i][j] (for reference computations in tests). */
    public float[] table(String name) {
        return parameters.get(name).getArray().toFloatArray();
    }
}

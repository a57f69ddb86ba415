package dev.diffustream.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import dev.diffustream.policy.config.GrpoConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * AdamW with decoupled weight decay, the update of {@code torch.optim.AdamW} (HF {@code
 * adamw_torch}; spec A.12: β = (0.9, 0.99), ε = 1e-8, weight decay 0.1). For step t ≥ 1 and each
 * parameter θ with gradient g:
 *
 * <pre>
 *   θ ← θ · (1 − lr·λ)                       (only parameters the decay rule selects)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   θ ← θ − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 * </pre>
 *
 * DJL 0.36 has an {@code AdamW}, but its moments are private (no resume) and it keys state by
 * parameter id; this one keeps the moments by parameter name, saves and loads them with the step
 * count, and runs about a dozen in-place tensor ops per parameter. {@link #step} consumes the
 * gradients: it zeroes them after the update. Parameters without a gradient are skipped.
 *
 * <p>Weight decay follows HF Trainer's default grouping ({@link #hfDecayRule()}): biases and
 * normalisation weights are not decayed.
 */
public final class AdamW implements AutoCloseable {

    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final Predicate<String> decayRule;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private NDManager stateManager;
    private long steps;

    /**
     * @param decayRule which parameter names get weight decay
     */
    public AdamW(
            double beta1,
            double beta2,
            double epsilon,
            double weightDecay,
            Predicate<String> decayRule) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(
                    "AdamW betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(epsilon > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException(
                    "AdamW needs epsilon > 0 and weightDecay >= 0, got "
                            + epsilon
                            + ", "
                            + weightDecay);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.decayRule = Objects.requireNonNull(decayRule, "decayRule");
    }

    /** The optimizer settings of a GRPO config, with HF's decay grouping. */
    public static AdamW fromConfig(GrpoConfig config) {
        return new AdamW(
                config.adamBeta1(),
                config.adamBeta2(),
                config.adamEpsilon(),
                config.weightDecay(),
                hfDecayRule());
    }

    /**
     * HF Trainer's grouping by name: no decay for biases and normalisation weights (names
     * containing {@code bias} or {@code norm}, case-insensitive), decay for everything else.
     */
    public static Predicate<String> hfDecayRule() {
        return name -> {
            String n = name.toLowerCase(Locale.ROOT);
            return !n.contains("bias") && !n.contains("norm");
        };
    }

    /** Number of updates applied so far (t). */
    public long stepCount() {
        return steps;
    }

    /**
     * One update of every parameter that has a gradient, then zeroes those gradients.
     *
     * @param params parameters by stable name (e.g. {@code PolicyModel.parameters()})
     * @param lr the learning rate of this step
     */
    public void step(Map<String, Parameter> params, double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        }
        steps++;
        double bias1 = 1 - Math.pow(beta1, steps);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, steps));
        float stepSize = (float) (lr / bias1);
        NoGrad.run(
                () -> {
                    for (Map.Entry<String, Parameter> e : params.entrySet()) {
                        NDArray w = e.getValue().getArray();
                        if (!w.hasGradient()) {
                            continue;
                        }
                        update(e.getKey(), w, lr, stepSize, bias2Sqrt);
                        NoGrad.zeroGrad(w);
                    }
                    return null;
                });
    }

    private void update(String name, NDArray w, double lr, float stepSize, double bias2Sqrt) {
        NDArray m = state(expAvg, name, w);
        NDArray v = state(expAvgSq, name, w);
        try (NDManager sm = m.getManager().newSubManager()) {
            NDArray g = w.getGradient();
            g.attach(sm);
            if (weightDecay > 0 && decayRule.test(name)) {
                w.muli((float) (1 - lr * weightDecay));
            }
            NDArray gm = g.mul((float) (1 - beta1)); // (1−β1)·g
            gm.attach(sm);
            m.muli((float) beta1).addi(gm);
            NDArray gv = g.square().muli((float) (1 - beta2)); // (1−β2)·g²
            gv.attach(sm);
            v.muli((float) beta2).addi(gv);
            NDArray denom = v.sqrt(); // √v
            denom.attach(sm);
            denom.divi((float) bias2Sqrt).addi((float) epsilon);
            NDArray delta = m.div(denom); // m / (√v̂ + ε)
            delta.attach(sm);
            w.subi(delta.muli(stepSize));
        }
    }

    private NDArray state(Map<String, NDArray> map, String name, NDArray like) {
        NDArray s = map.get(name);
        if (s == null) {
            if (stateManager == null) {
                stateManager = NDManager.newBaseManager(like.getDevice());
            }
            s = stateManager.zeros(like.getShape(), like.getDataType(), like.getDevice());
            map.put(name, s);
        } else if (!s.getShape().equals(like.getShape())) {
            throw new IllegalStateException(
                    "optimizer state for "
                            + name
                            + " has shape "
                            + s.getShape()
                            + " but the parameter has "
                            + like.getShape());
        }
        return s;
    }

    /**
     * Writes the moments and the step count as one safetensors file ({@code exp_avg.<name>}, {@code
     * exp_avg_sq.<name>}, {@code step}), atomically (temp file + move).
     */
    public void save(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (NDManager sm = NDManager.newBaseManager()) {
            NDList list = new NDList();
            NDArray step = sm.create(new long[] {steps});
            step.setName("step");
            list.add(step);
            for (Map.Entry<String, NDArray> e : expAvg.entrySet()) {
                NDArray m = e.getValue().duplicate();
                m.attach(sm);
                m.setName("exp_avg." + e.getKey());
                list.add(m);
                NDArray v = expAvgSq.get(e.getKey()).duplicate();
                v.attach(sm);
                v.setName("exp_avg_sq." + e.getKey());
                list.add(v);
            }
            try (OutputStream os = Files.newOutputStream(tmp)) {
                list.encode(os, NDList.Encoding.SAFETENSORS);
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Restores the state written by {@link #save}, replacing the current one.
     *
     * @param params the parameters the state belongs to: every saved name must be one of them with
     *     the same shape
     */
    public void load(Path file, Map<String, Parameter> params) throws IOException {
        NDManager fresh = null;
        Map<String, NDArray> m = new LinkedHashMap<>();
        Map<String, NDArray> v = new LinkedHashMap<>();
        long loadedSteps = -1;
        try (InputStream in = Files.newInputStream(file)) {
            NDArray any = params.isEmpty() ? null : params.values().iterator().next().getArray();
            fresh =
                    any == null
                            ? NDManager.newBaseManager()
                            : NDManager.newBaseManager(any.getDevice());
            NDList list = NDList.decode(fresh, in);
            for (NDArray a : list) {
                String name = a.getName();
                if ("step".equals(name)) {
                    loadedSteps = a.toLongArray()[0];
                    continue;
                }
                boolean first = name.startsWith("exp_avg.");
                boolean second = name.startsWith("exp_avg_sq.");
                String param = name.substring(first ? 8 : second ? 11 : 0);
                Parameter p = params.get(param);
                if (!(first || second) || p == null) {
                    throw new IOException(
                            "optimizer state " + file + " has unexpected tensor '" + name + "'");
                }
                if (!p.getArray().getShape().equals(a.getShape())) {
                    throw new IOException(
                            "optimizer state "
                                    + file
                                    + ": "
                                    + name
                                    + " has shape "
                                    + a.getShape()
                                    + " but parameter "
                                    + param
                                    + " has "
                                    + p.getArray().getShape());
                }
                (first ? m : v).put(param, a);
            }
        } catch (IOException | RuntimeException e) {
            if (fresh != null) {
                fresh.close();
            }
            throw e;
        }
        if (loadedSteps < 0 || !m.keySet().equals(v.keySet())) {
            fresh.close();
            throw new IOException("optimizer state " + file + " lacks the step count or a moment");
        }
        close();
        stateManager = fresh;
        expAvg.putAll(m);
        expAvgSq.putAll(v);
        steps = loadedSteps;
    }

    /** Frees the moments. */
    @Override
    public void close() {
        expAvg.clear();
        expAvgSq.clear();
        if (stateManager != null) {
            stateManager.close();
            stateManager = null;
        }
    }
}

package dev.diffustream.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.diffustream.policy.config.GrpoConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
 * parameter id; this one saves and loads the moments by parameter name with the step count.
 *
 * <p>Cost: the moments of all parameters live in two flat vectors, and one step concatenates the
 * gradients (and, with decay, the weights) into flat vectors too, so the Adam arithmetic is a dozen
 * tensor ops in total rather than per parameter; only the final in-place subtraction and the
 * gradient reset are per parameter. On 2 shared cores each parallel op costs a thread wake-up, so
 * the op count matters more than the arithmetic. Gradient clipping can ride on the same flat
 * gradient ({@link #step(Map, double, double)}). A step consumes the gradients (zeroes them).
 * Parameters without a gradient are skipped; the set of trainable parameters must not change.
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
    private NDManager stateManager;
    private Layout flat;
    private NDArray expAvg; // (N) m of all parameters, flattened in layout order
    private NDArray expAvgSq; // (N) v
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
        step(params, lr, 0);
    }

    /**
     * Global-norm clipping ({@link GradientClipping}'s rule, on the same flat gradient) followed by
     * one update, then zeroes the gradients.
     *
     * @param maxGradNorm clip the global gradient norm to this; ≤ 0 disables clipping
     * @return the global gradient norm before clipping
     */
    public double step(Map<String, Parameter> params, double lr, double maxGradNorm) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        }
        Layout layout = layout(params);
        steps++;
        double bias1 = 1 - Math.pow(beta1, steps);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, steps));
        float stepSize = (float) (lr / bias1);
        return NoGrad.run(
                () -> {
                    try (NDManager sm = stateManager.newSubManager()) {
                        NDList gradParts = new NDList(layout.size());
                        NDList weightParts = new NDList(layout.size());
                        for (int i = 0; i < layout.size(); i++) {
                            NDArray w = params.get(layout.names.get(i)).getArray();
                            NDArray g = w.getGradient();
                            g.attach(sm);
                            gradParts.add(g.reshape(-1)); // (n_i) view, in sm
                            NDArray wv = w.reshape(-1); // (n_i) view
                            wv.attach(sm); // else the view handle would stay with the model
                            weightParts.add(wv);
                        }
                        NDArray g = NDArrays.concat(gradParts); // (N)
                        double norm = Math.sqrt(g.dot(g).getFloat());
                        if (maxGradNorm > 0 && norm > maxGradNorm) {
                            g.muli((float) (maxGradNorm / (norm + 1e-6)));
                        }
                        expAvg.muli((float) beta1).addi(g.mul((float) (1 - beta1))); // m
                        expAvgSq.muli((float) beta2)
                                .addi(g.square().muli((float) (1 - beta2))); // v
                        NDArray denom = expAvgSq.sqrt(); // √v
                        denom.attach(sm); // results of ops on the state land in its manager
                        denom.divi((float) bias2Sqrt).addi((float) epsilon); // √v̂ + ε
                        NDArray delta = expAvg.div(denom); // (N)
                        delta.attach(sm);
                        delta.muli(stepSize);
                        if (weightDecay > 0 && layout.anyDecay) {
                            // decoupled decay lr·λ·θ (θ before this step), as torch's θ·(1 − lr·λ)
                            NDArray theta = NDArrays.concat(weightParts); // (N) copy
                            delta.addi(
                                    theta.muli(layout.decayMask).muli((float) (lr * weightDecay)));
                        }
                        for (int i = 0; i < layout.size(); i++) {
                            NDArray w = params.get(layout.names.get(i)).getArray();
                            long from = layout.offsets[i];
                            long to = from + layout.sizes[i];
                            w.subi(delta.get(from + ":" + to).reshape(w.getShape()));
                            NoGrad.zeroGrad(w);
                        }
                        return norm;
                    }
                });
    }

    /** The flat layout of the parameters that have gradients; fixed by the first step or load. */
    private Layout layout(Map<String, Parameter> params) {
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            if (e.getValue().getArray().hasGradient()) {
                names.add(e.getKey());
            }
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no parameter has a gradient to update");
        }
        if (flat != null) {
            if (!flat.names.equals(names)) {
                throw new IllegalStateException(
                        "trainable parameters changed since the optimizer state was created: "
                                + flat.names
                                + " vs "
                                + names);
            }
            for (int i = 0; i < names.size(); i++) {
                if (params.get(names.get(i)).getArray().size() != flat.sizes[i]) {
                    throw new IllegalStateException(
                            "optimizer state for "
                                    + names.get(i)
                                    + " has "
                                    + flat.sizes[i]
                                    + " elements but the parameter has shape "
                                    + params.get(names.get(i)).getArray().getShape());
                }
            }
            return flat;
        }
        NDArray first = params.get(names.get(0)).getArray();
        stateManager = NDManager.newBaseManager(first.getDevice());
        flat = new Layout(names, params, decayRule, weightDecay, stateManager);
        expAvg = stateManager.zeros(new Shape(flat.total), first.getDataType());
        expAvgSq = stateManager.zeros(new Shape(flat.total), first.getDataType());
        return flat;
    }

    /** Names, offsets and sizes of the flattened parameters, and the decay mask. */
    private static final class Layout {
        final List<String> names;
        final long[] offsets;
        final long[] sizes;
        final Shape[] shapes;
        final long total;
        final boolean anyDecay;
        final NDArray decayMask;

        Layout(
                List<String> names,
                Map<String, Parameter> params,
                Predicate<String> rule,
                double weightDecay,
                NDManager manager) {
            this.names = List.copyOf(names);
            offsets = new long[names.size()];
            sizes = new long[names.size()];
            shapes = new Shape[names.size()];
            long n = 0;
            boolean any = false;
            for (int i = 0; i < names.size(); i++) {
                offsets[i] = n;
                sizes[i] = params.get(names.get(i)).getArray().size();
                shapes[i] = params.get(names.get(i)).getArray().getShape();
                n += sizes[i];
                any |= rule.test(names.get(i));
            }
            total = n;
            anyDecay = any && weightDecay > 0;
            float[] mask = new float[Math.toIntExact(n)];
            for (int i = 0; i < names.size(); i++) {
                if (rule.test(names.get(i))) {
                    java.util.Arrays.fill(
                            mask, (int) offsets[i], (int) (offsets[i] + sizes[i]), 1f);
                }
            }
            decayMask = manager.create(mask); // (N) 1 = decayed
        }

        int size() {
            return names.size();
        }
    }

    /**
     * Writes the moments and the step count as one safetensors file ({@code exp_avg.<name>}, {@code
     * exp_avg_sq.<name>} in parameter shape, {@code step}), atomically (temp file + move).
     */
    public void save(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (NDManager sm = NDManager.newBaseManager()) {
            NDList list = new NDList();
            NDArray step = sm.create(new long[] {steps});
            step.setName("step");
            list.add(step);
            if (flat != null) {
                for (int i = 0; i < flat.size(); i++) {
                    String slice = flat.offsets[i] + ":" + (flat.offsets[i] + flat.sizes[i]);
                    Shape shape = flat.shapes[i];
                    for (boolean first : new boolean[] {true, false}) {
                        NDArray part =
                                (first ? expAvg : expAvgSq).get(slice).reshape(shape).duplicate();
                        part.attach(sm);
                        part.setName((first ? "exp_avg." : "exp_avg_sq.") + flat.names.get(i));
                        list.add(part);
                    }
                }
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
     * @param params the parameters the state belongs to: every parameter with a gradient must have
     *     its two moments in the file, with its shape
     */
    public void load(Path file, Map<String, Parameter> params) throws IOException {
        Map<String, NDArray> saved = new LinkedHashMap<>();
        long loadedSteps = -1;
        try (NDManager scratch = NDManager.newBaseManager();
                InputStream in = Files.newInputStream(file)) {
            NDList list = NDList.decode(scratch, in);
            for (NDArray a : list) {
                if ("step".equals(a.getName())) {
                    loadedSteps = a.toLongArray()[0];
                } else {
                    saved.put(a.getName(), a);
                }
            }
            if (loadedSteps < 0) {
                throw new IOException("optimizer state " + file + " has no step count");
            }
            close();
            if (saved.isEmpty()) {
                steps = loadedSteps;
                return;
            }
            Layout layout = layout(params); // fresh zero state in the parameters' layout
            NDList m = new NDList(layout.size());
            NDList v = new NDList(layout.size());
            for (int i = 0; i < layout.size(); i++) {
                String name = layout.names.get(i);
                Shape shape = params.get(name).getArray().getShape();
                for (boolean first : new boolean[] {true, false}) {
                    String key = (first ? "exp_avg." : "exp_avg_sq.") + name;
                    NDArray a = saved.remove(key);
                    if (a == null) {
                        throw new IOException("optimizer state " + file + " lacks " + key);
                    }
                    if (!a.getShape().equals(shape)) {
                        throw new IOException(
                                "optimizer state "
                                        + file
                                        + ": "
                                        + key
                                        + " has shape "
                                        + a.getShape()
                                        + " but parameter "
                                        + name
                                        + " has "
                                        + shape);
                    }
                    (first ? m : v).add(a.reshape(-1));
                }
            }
            if (!saved.isEmpty()) {
                throw new IOException(
                        "optimizer state " + file + " has unexpected tensors " + saved.keySet());
            }
            expAvg = replaceState(expAvg, NDArrays.concat(m));
            expAvgSq = replaceState(expAvgSq, NDArrays.concat(v));
            steps = loadedSteps;
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private NDArray replaceState(NDArray zeros, NDArray loaded) {
        NDArray out =
                loaded.toDevice(zeros.getDevice(), true).toType(zeros.getDataType(), false); // (N)
        out.attach(stateManager);
        zeros.close();
        return out;
    }

    /** Frees the moments (the step count is kept). */
    @Override
    public void close() {
        if (stateManager != null) {
            stateManager.close();
        }
        stateManager = null;
        flat = null;
        expAvg = null;
        expAvgSq = null;
    }
}

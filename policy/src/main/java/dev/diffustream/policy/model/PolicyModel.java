package dev.diffustream.policy.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.diffustream.policy.DeviceRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The policy: a {@link DreamTransformer} with its parameters, owned by one {@link NDManager}. It is
 * the {@link MaskedLm} the sampler and the estimators call, and what the learner trains, copies
 * (reference model), soft-updates and saves.
 *
 * <p>Dimensions: B batch, T sequence, V vocabulary.
 *
 * <h2>Use</h2>
 *
 * <pre>{@code
 * PolicyModel policy = PolicyModel.create(ModelConfig.defaults());        // fresh, seeded
 * PolicyModel policy = HfCheckpoint.load(dir, DeviceConfig.defaults());   // from disk
 * NDArray logits = policy.logits(tokens, null);          // (B, T, V) fp32, row j predicts j+1
 * try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
 *     policy.zeroGradients();
 *     NDArray loss = ...policy.logits(...)...;
 *     gc.backward(loss);                                 // grads on policy.parameters()
 * }
 * PolicyModel ref = policy.frozenCopy();                 // reference model, no gradients
 * ref.softUpdateFrom(policy, 0.6);                       // θ_ref ← 0.6·θ + 0.4·θ_ref (spec A.11)
 * HfCheckpoint.save(policy, tokenizer, dir);  String sha = WeightsDigest.of(policy);
 * }</pre>
 *
 * <h2>Autograd and threads</h2>
 *
 * {@link #logits} follows the calling thread's PyTorch grad mode: inside a {@code
 * GradientCollector} it records a graph to the trainable parameters; outside one, on the thread
 * that loaded the engine, it does not. PyTorch's grad mode is per thread and on by default, so
 * inference on other threads should use {@link #inference()}. PyTorch <b>accumulates</b> gradients:
 * call {@link #zeroGradients()} before each backward. {@code parameter.getArray().getGradient()}
 * returns a new handle owned by this model's manager; close it after use.
 *
 * <h2>Memory</h2>
 *
 * The logits belong to the manager of {@code tokens}; every intermediate array is released when
 * {@link #logits} returns (autograd keeps what it needs natively).
 *
 * <p>Thread safety: concurrent {@link #logits} calls are safe; {@link #softUpdateFrom}, {@link
 * #copyFrom}, {@link #loadWeights} and {@link #close} must not overlap with them.
 */
public final class PolicyModel implements MaskedLm, AutoCloseable {

    private final ModelConfig config;
    private final Device device;
    private final DataType dtype;
    private final boolean trainable;
    private final NDManager manager;
    private final DreamTransformer block;
    private final ParameterStore store;
    private final WeightLayout layout;
    private final Map<String, Parameter> parameters;
    private final RotaryEmbedding rope;
    private volatile boolean closed;

    private PolicyModel(ModelConfig config, ParameterFiller filler, boolean trainable)
            throws IOException {
        this.config = config;
        this.device = DeviceRuntime.initialize(config.device());
        this.dtype = config.device().dataType();
        this.trainable = trainable;
        this.manager = NDManager.newBaseManager(device);
        boolean ok = false;
        try {
            block = DreamTransformer.builder().setConfig(config).build();
            layout = WeightLayout.of(block);
            Map<String, Parameter> byName = new LinkedHashMap<>();
            for (WeightLayout.Entry entry : layout.entries()) {
                NDArray array = filler.fill(entry, manager); // entry.shape(), dtype, owned
                if (!array.getShape().equals(entry.shape()) || array.getDataType() != dtype) {
                    throw new IllegalStateException(
                            entry.name()
                                    + ": built "
                                    + array.getShape()
                                    + " "
                                    + array.getDataType()
                                    + ", expected "
                                    + entry.shape()
                                    + " "
                                    + dtype);
                }
                array.attach(manager);
                entry.parameter().setArray(array);
                entry.parameter().freeze(!trainable);
                byName.put(entry.name(), entry.parameter());
            }
            parameters = Collections.unmodifiableMap(byName);
            store = new ParameterStore(manager, false);
            rope =
                    new RotaryEmbedding(
                            manager,
                            config.numAttentionHeads(),
                            config.numKeyValueHeads(),
                            config.headDim(),
                            config.ropeTheta(),
                            dtype);
            block.setRotary(rope);
            ok = true;
        } finally {
            if (!ok) {
                manager.close();
            }
        }
    }

    /** Builds one parameter array. */
    @FunctionalInterface
    private interface ParameterFiller {
        NDArray fill(WeightLayout.Entry entry, NDManager manager) throws IOException;
    }

    /** A fresh, trainable model with seeded weights ({@link SeededInit}). */
    public static PolicyModel create(ModelConfig config) {
        try {
            return fromSource(config, new SeededInit(config), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // SeededInit does no I/O
        }
    }

    /**
     * A model whose Hugging Face tensors are read from {@code source}, one at a time; fused
     * parameters are concatenated here.
     *
     * @param trainable whether parameters require gradients
     */
    public static PolicyModel fromSource(ModelConfig config, TensorSource source, boolean trainable)
            throws IOException {
        return new PolicyModel(
                config, (entry, m) -> readEntry(entry, source, m, config), trainable);
    }

    private static NDArray readEntry(
            WeightLayout.Entry entry, TensorSource source, NDManager m, ModelConfig config)
            throws IOException {
        DataType dtype = config.device().dataType();
        if (!entry.fused()) {
            return source.read(entry.parts().get(0), m, dtype);
        }
        try (NDManager scratch = m.newSubManager()) {
            NDList parts = new NDList(entry.parts().size());
            for (WeightLayout.HfTensor t : entry.parts()) {
                parts.add(source.read(t, scratch, dtype)); // (rows_i, …)
            }
            NDArray fused = NDArrays.concat(parts, 0); // (Σ rows_i, …)
            fused.attach(m);
            return fused;
        }
    }

    // ---------------------------------------------------------------- MaskedLm

    @Override
    public NDArray logits(NDArray tokens, NDArray attentionMask) {
        ensureOpen();
        NDManager owner = tokens.getManager();
        try (NDManager scope = owner.newSubManager(device)) {
            // Every array derived from the inputs lands in `scope` and is freed on return.
            tokens.tempAttach(scope);
            if (attentionMask != null && attentionMask.getManager() != scope) {
                attentionMask.tempAttach(scope);
            }
            NDList inputs = new NDList(2);
            inputs.add(tokens.toDevice(device, false)); // (B, T)
            if (attentionMask != null) {
                inputs.add(attentionMask.toDevice(device, false)); // (B, T)
            }
            NDArray logits = block.forward(store, inputs, false).head(); // (B, T, V) fp32
            logits.attach(owner);
            return logits;
        }
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    /**
     * This model as a {@link MaskedLm} that never records autograd, whatever the calling thread's
     * grad mode: for sampling and for old/reference log-probs.
     */
    public MaskedLm inference() {
        PolicyModel self = this;
        return new MaskedLm() {
            @Override
            public NDArray logits(NDArray tokens, NDArray attentionMask) {
                return DeviceRuntime.noGrad(() -> self.logits(tokens, attentionMask));
            }

            @Override
            public int vocabSize() {
                return self.vocabSize();
            }
        };
    }

    // ---------------------------------------------------------------- parameters

    public ModelConfig config() {
        return config;
    }

    /** The resolved device. */
    public Device device() {
        return device;
    }

    /** Parameter dtype (float32 or float16). */
    public DataType dataType() {
        return dtype;
    }

    /** Whether parameters require gradients. */
    public boolean isTrainable() {
        return trainable;
    }

    /** The manager owning the parameters. */
    public NDManager manager() {
        return manager;
    }

    /** The DJL block. */
    public DreamTransformer block() {
        return block;
    }

    /**
     * Parameters by name, in canonical order (embedding, layers, final norm, head): stable across
     * runs, use it to key optimizer state. Names are HF-style; the fused ones are {@code
     * …self_attn.qkv_proj.{weight,bias}} and {@code …mlp.gate_up_proj.weight}.
     */
    public Map<String, Parameter> parameters() {
        return parameters;
    }

    /** The mapping between parameters and HF checkpoint tensors. */
    public WeightLayout layout() {
        return layout;
    }

    /** Scalar parameter count. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters.values()) {
            n += p.getArray().size();
        }
        return n;
    }

    /** Zeroes the accumulated gradients of every trainable parameter. */
    public void zeroGradients() {
        ensureOpen();
        if (!trainable) {
            return;
        }
        for (Parameter p : parameters.values()) {
            JniUtils.zeroGrad((PtNDArray) p.getArray());
        }
    }

    /** A deep copy with the same device and dtype whose parameters do not require gradients. */
    public PolicyModel frozenCopy() {
        return copy(false);
    }

    /** A deep copy; {@code trainable} says whether its parameters require gradients. */
    public PolicyModel copy(boolean trainable) {
        ensureOpen();
        try {
            return new PolicyModel(
                    config,
                    (entry, m) ->
                            DeviceRuntime.noGrad(
                                    () -> parameters.get(entry.name()).getArray().duplicate()),
                    trainable);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The reference-model soft update of TRL's {@code SyncRefModelCallback} (spec A.11), in place:
     * {@code θ_this ← α·θ_source + (1−α)·θ_this}. α = 1 is a hard copy.
     */
    public void softUpdateFrom(PolicyModel source, double alpha) {
        ensureOpen();
        checkCompatible(source);
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("soft update alpha must be in [0, 1], got " + alpha);
        }
        DeviceRuntime.noGrad(
                () -> {
                    try (NDManager scratch = manager.newSubManager()) {
                        NDArray keep = scratch.create((float) (1 - alpha)).toType(dtype, false);
                        NDArray take = scratch.create((float) alpha).toType(dtype, false);
                        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
                            NDArray target = e.getValue().getArray();
                            NDArray src = source.parameters.get(e.getKey()).getArray();
                            NDArray scaled = src.mul(take); // α·θ_source
                            scaled.attach(scratch);
                            target.muli(keep).addi(scaled); // (1−α)·θ_this + α·θ_source
                        }
                    }
                    return null;
                });
    }

    /** Hard copy of {@code source}'s weights into this model, in place. */
    public void copyFrom(PolicyModel source) {
        ensureOpen();
        checkCompatible(source);
        DeviceRuntime.noGrad(
                () -> {
                    for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
                        NDArray src = source.parameters.get(e.getKey()).getArray();
                        replace(e.getValue(), src.duplicate());
                    }
                    return null;
                });
    }

    /**
     * Replaces every weight in place with the tensors of {@code source} (hot swap of a new
     * checkpoint; one parameter at a time, so memory grows by one parameter at most).
     */
    public void loadWeights(TensorSource source) throws IOException {
        ensureOpen();
        for (WeightLayout.Entry entry : layout.entries()) {
            NDArray fresh = readEntry(entry, source, manager, config);
            replace(entry.parameter(), fresh);
        }
    }

    private void replace(Parameter p, NDArray fresh) {
        NDArray target = p.getArray();
        if (!fresh.getShape().equals(target.getShape())) {
            throw new IllegalArgumentException(
                    p.getName() + ": shape " + fresh.getShape() + " != " + target.getShape());
        }
        NDArray cast = fresh.toType(dtype, false);
        if (cast != fresh) {
            fresh.close();
        }
        target.intern(cast); // takes over the native tensor; the old one is freed
        target.setRequiresGradient(trainable);
    }

    private void checkCompatible(PolicyModel other) {
        other.ensureOpen();
        if (!other.layout.hfTensors().equals(layout.hfTensors())) {
            throw new IllegalArgumentException(
                    "models differ in architecture: " + config + " vs " + other.config);
        }
    }

    /**
     * Visits every HF tensor of the model in canonical order (fused parameters split again), as
     * temporary arrays in the model's dtype that are closed when the visitor returns.
     */
    public void forEachHfTensor(HfTensorVisitor visitor) throws IOException {
        ensureOpen();
        for (WeightLayout.Entry entry : layout.entries()) {
            visitEntry(entry, -1, visitor);
        }
    }

    /** Visits the one HF tensor called {@code hfName} (see {@link #forEachHfTensor}). */
    public void visitHfTensor(String hfName, HfTensorVisitor visitor) throws IOException {
        ensureOpen();
        for (WeightLayout.Entry entry : layout.entries()) {
            for (int i = 0; i < entry.parts().size(); i++) {
                if (entry.parts().get(i).name().equals(hfName)) {
                    visitEntry(entry, i, visitor);
                    return;
                }
            }
        }
        throw new IllegalArgumentException("the model has no tensor '" + hfName + "'");
    }

    private void visitEntry(WeightLayout.Entry entry, int only, HfTensorVisitor visitor)
            throws IOException {
        try (NDManager scratch = manager.newSubManager()) {
            NDArray value = entry.parameter().getArray();
            List<NDArray> parts = new ArrayList<>();
            if (!entry.fused()) {
                NDArray view = DeviceRuntime.noGrad(value::stopGradient); // shares storage
                view.attach(scratch);
                parts.add(view);
            } else {
                long[] cuts = new long[entry.parts().size() - 1];
                long at = 0;
                for (int i = 0; i < cuts.length; i++) {
                    at += entry.parts().get(i).shape().get(0);
                    cuts[i] = at;
                }
                NDList split = DeviceRuntime.noGrad(() -> value.split(cuts, 0)); // row blocks
                split.attach(scratch);
                parts.addAll(split);
            }
            for (int i = 0; i < parts.size(); i++) {
                if (only < 0 || only == i) {
                    visitor.visit(entry.parts().get(i), parts.get(i));
                }
            }
        }
    }

    /** Receives one HF tensor from {@link #forEachHfTensor}. */
    @FunctionalInterface
    public interface HfTensorVisitor {
        void visit(WeightLayout.HfTensor tensor, NDArray value) throws IOException;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("PolicyModel is closed");
        }
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        rope.close();
        manager.close();
    }

    @Override
    public String toString() {
        return "PolicyModel(L="
                + config.numHiddenLayers()
                + ", E="
                + config.hiddenSize()
                + ", V="
                + config.vocabSize()
                + ", "
                + dtype
                + " on "
                + device
                + (trainable ? ", trainable" : ", frozen")
                + ")";
    }
}

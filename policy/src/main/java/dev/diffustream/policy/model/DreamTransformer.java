package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The bidirectional Qwen2/Dream transformer used by DiffuCoder (spec D.4, PAPER B.2): token
 * embedding, L pre-norm {@link DecoderLayer}s with rotary positions and no causal mask, a final
 * RMSNorm and the LM head (tied to the embedding or not).
 *
 * <p>Dimensions: B batch, T sequence, V vocabulary, E model width, Ht fused q/k/v heads, D head
 * dim.
 *
 * <p>Inputs: token ids (B, T) int32/int64, and optionally an attention mask (B, T) with 1 for real
 * tokens and 0 for left padding. Output: logits (B, T, V) float32, <b>unshifted</b>: row j predicts
 * the token at j+1 (spec A.5).
 *
 * <p>Without a mask, attention is full and positions are 0…T−1, exactly like the scoring passes of
 * the release (spec A.5). With a mask, padded keys are excluded from every softmax and positions
 * are pad-aware ({@code cumsum(mask) − 1}, 1 on pads; spec D.2). The outputs at padded rows are
 * finite but meaningless (those rows still attend to the real tokens); callers never read them.
 */
public final class DreamTransformer extends AbstractBlock {

    private static final byte VERSION = 1;

    private final ModelConfig config;
    private final Parameter embedTokens;
    private final List<DecoderLayer> layers;
    private final RmsNorm norm;
    private final Parameter lmHead;
    private RotaryEmbedding rope;

    private DreamTransformer(Builder b) {
        super(VERSION);
        config = b.config;
        embedTokens =
                addParameter(
                        Parameter.builder()
                                .setName("embed_tokens")
                                .setType(Parameter.Type.WEIGHT)
                                .build());
        List<DecoderLayer> list = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            list.add(
                    addChildBlock("layers." + i, DecoderLayer.builder().setConfig(config).build()));
        }
        layers = Collections.unmodifiableList(list);
        norm =
                addChildBlock(
                        "norm",
                        RmsNorm.builder()
                                .setSize(config.hiddenSize())
                                .optEps(config.rmsNormEps())
                                .build());
        lmHead =
                config.tieWordEmbeddings()
                        ? null
                        : addParameter(
                                Parameter.builder()
                                        .setName("lm_head")
                                        .setType(Parameter.Type.WEIGHT)
                                        .build());
    }

    public ModelConfig config() {
        return config;
    }

    /** Embedding matrix (V, E). */
    public Parameter embedTokens() {
        return embedTokens;
    }

    public List<DecoderLayer> layers() {
        return layers;
    }

    public RmsNorm norm() {
        return norm;
    }

    /** LM head (V, E), or {@code null} when tied to the embedding. */
    public Parameter lmHead() {
        return lmHead;
    }

    /** Sets the rotary tables; called once by the owner after the parameters are placed. */
    void setRotary(RotaryEmbedding rotary) {
        this.rope = rotary;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray tokens = inputs.get(0); // (B, T)
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null; // (B, T) or absent
        Shape s = tokens.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("tokens must be (B, T), got " + s);
        }
        if (mask != null && !mask.getShape().equals(s)) {
            throw new IllegalArgumentException(
                    "attention mask shape " + mask.getShape() + " differs from tokens " + s);
        }
        NDArray emb = store.getValue(embedTokens, tokens.getDevice(), training); // (V, E)
        NDArray x =
                tokens.getNDArrayInternal()
                        .embedding(tokens, emb, SparseFormat.DENSE)
                        .singletonOrThrow(); // (B, T, E)

        NDList layerInputs = new NDList(4);
        layerInputs.add(x);
        if (mask == null) {
            layerInputs.addAll(rope.tables((int) s.get(1), x)); // (1, T, Ht, D) ×2
        } else {
            NDArray m = mask.toType(DataType.FLOAT32, false); // (B, T) 1 = real, 0 = pad
            layerInputs.addAll(rope.tables(m)); // (B, T, Ht, D) ×2
            layerInputs.add(rope.keyBias(m)); // (B, 1, 1, T)
        }
        for (DecoderLayer layer : layers) {
            layerInputs.set(0, layer.forward(store, layerInputs, training).head()); // (B, T, E)
        }
        NDArray h = norm.forward(store, new NDList(layerInputs.get(0)), training).head(); // (B,T,E)
        NDArray head = // (V, E), tied or not
                lmHead == null ? emb : store.getValue(lmHead, tokens.getDevice(), training);
        NDArray logits = h.getNDArrayInternal().linear(h, head, null).singletonOrThrow(); // (B,T,V)
        return new NDList(logits.toType(DataType.FLOAT32, false)); // (B, T, V) fp32
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape t = inputShapes[0];
        return new Shape[] {new Shape(t.get(0), t.get(1), config.vocabSize())};
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: {@code setConfig} required. */
    public static final class Builder {
        private ModelConfig config;

        private Builder() {}

        public Builder setConfig(ModelConfig config) {
            this.config = config;
            return this;
        }

        public DreamTransformer build() {
            if (config == null) {
                throw new IllegalArgumentException("DreamTransformer needs a ModelConfig");
            }
            return new DreamTransformer(this);
        }
    }
}

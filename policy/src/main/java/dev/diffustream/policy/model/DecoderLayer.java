package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * One pre-norm transformer layer of Qwen2/Dream:
 *
 * <pre>
 *   h = x + attention(input_layernorm(x))
 *   y = h + mlp(post_attention_layernorm(h))
 * </pre>
 *
 * <p>Dimensions: B batch, T sequence, E model width, Ht fused q/k/v heads, D head dim.
 *
 * <p>Inputs: x (B, T, E), cos and signed sin (1|B, T, Ht, D), optional key bias (B, 1, 1, T).
 * Output: (B, T, E).
 */
public final class DecoderLayer extends AbstractBlock {

    private static final byte VERSION = 1;

    private final RmsNorm inputNorm;
    private final GqaAttention attention;
    private final RmsNorm postAttentionNorm;
    private final SwiGluMlp mlp;

    private DecoderLayer(Builder b) {
        super(VERSION);
        ModelConfig c = b.config;
        inputNorm =
                addChildBlock(
                        "input_layernorm",
                        RmsNorm.builder().setSize(c.hiddenSize()).optEps(c.rmsNormEps()).build());
        attention =
                addChildBlock(
                        "self_attn",
                        GqaAttention.builder()
                                .setHidden(c.hiddenSize())
                                .setHeads(c.numAttentionHeads())
                                .setKvHeads(c.numKeyValueHeads())
                                .optBias(c.attentionBias())
                                .build());
        postAttentionNorm =
                addChildBlock(
                        "post_attention_layernorm",
                        RmsNorm.builder().setSize(c.hiddenSize()).optEps(c.rmsNormEps()).build());
        mlp =
                addChildBlock(
                        "mlp",
                        SwiGluMlp.builder()
                                .setHidden(c.hiddenSize())
                                .setIntermediate(c.intermediateSize())
                                .build());
    }

    public RmsNorm inputNorm() {
        return inputNorm;
    }

    public GqaAttention attention() {
        return attention;
    }

    public RmsNorm postAttentionNorm() {
        return postAttentionNorm;
    }

    public SwiGluMlp mlp() {
        return mlp;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.get(0); // (B, T, E)
        NDList attentionInputs = new NDList(inputs.size());
        attentionInputs.add(inputNorm.forward(store, new NDList(x), training).head()); // (B,T,E)
        for (int i = 1; i < inputs.size(); i++) {
            attentionInputs.add(inputs.get(i)); // rope tables, key bias
        }
        NDArray attended = attention.forward(store, attentionInputs, training).head(); // (B,T,E)
        NDArray h = x.add(attended); // (B, T, E)
        NDArray normed =
                postAttentionNorm.forward(store, new NDList(h), training).head(); // (B,T,E)
        NDArray mlpOut = mlp.forward(store, new NDList(normed), training).head(); // (B, T, E)
        return new NDList(h.add(mlpOut)); // (B, T, E)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: {@code setConfig} required (sizes come from the model config). */
    public static final class Builder {
        private ModelConfig config;

        private Builder() {}

        public Builder setConfig(ModelConfig config) {
            this.config = config;
            return this;
        }

        public DecoderLayer build() {
            if (config == null) {
                throw new IllegalArgumentException("DecoderLayer needs a ModelConfig");
            }
            return new DecoderLayer(this);
        }
    }
}

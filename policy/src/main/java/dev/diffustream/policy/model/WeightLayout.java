package dev.diffustream.policy.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * How the model's parameters map to the tensors of a Hugging Face Dream/DiffuCoder (Qwen2)
 * checkpoint. Most parameters are one HF tensor; two are fused for speed and made of several HF
 * tensors stacked along axis 0:
 *
 * <pre>
 *   model.layers.{i}.self_attn.qkv_proj.weight  = [q_proj.weight; k_proj.weight; v_proj.weight]
 *   model.layers.{i}.self_attn.qkv_proj.bias    = [q_proj.bias;   k_proj.bias;   v_proj.bias]
 *   model.layers.{i}.mlp.gate_up_proj.weight    = [gate_proj.weight; up_proj.weight]
 * </pre>
 *
 * The order of {@link #entries()} is the canonical parameter order (embedding, layers 0…L−1, final
 * norm, LM head), used for optimizer state and for saving.
 */
public final class WeightLayout {

    /** How a fresh model initialises a tensor (HF {@code _init_weights}). */
    public enum Init {
        /** Normal(0, initializer_range). */
        NORMAL,
        /** All zeros (biases). */
        ZEROS,
        /** All ones (norm scales). */
        ONES
    }

    /** One tensor of the HF checkpoint. */
    public record HfTensor(String name, Shape shape, Init init) {}

    /**
     * One model parameter and the HF tensors it is made of (stacked along axis 0, in order).
     *
     * @param name our parameter name (HF style; fused ones use {@code qkv_proj} / {@code
     *     gate_up_proj})
     */
    public record Entry(String name, Parameter parameter, Shape shape, List<HfTensor> parts) {
        /** Whether this parameter is several HF tensors stacked. */
        public boolean fused() {
            return parts.size() > 1;
        }
    }

    private final List<Entry> entries;

    private WeightLayout(List<Entry> entries) {
        this.entries = Collections.unmodifiableList(entries);
    }

    /** The layout of {@code block}. */
    static WeightLayout of(DreamTransformer block) {
        ModelConfig c = block.config();
        long v = c.vocabSize();
        long e = c.hiddenSize();
        long d = c.headDim();
        long q = c.numAttentionHeads() * d;
        long kv = c.numKeyValueHeads() * d;
        long inter = c.intermediateSize();
        List<Entry> list = new ArrayList<>();
        list.add(single("model.embed_tokens.weight", block.embedTokens(), new Shape(v, e)));
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            DecoderLayer layer = block.layers().get(i);
            GqaAttention attn = layer.attention();
            list.add(
                    single(
                            p + "input_layernorm.weight",
                            layer.inputNorm().weight(),
                            new Shape(e),
                            Init.ONES));
            list.add(
                    fused(
                            p + "self_attn.qkv_proj.weight",
                            attn.qkvWeight(),
                            List.of(
                                    new HfTensor(
                                            p + "self_attn.q_proj.weight",
                                            new Shape(q, e),
                                            Init.NORMAL),
                                    new HfTensor(
                                            p + "self_attn.k_proj.weight",
                                            new Shape(kv, e),
                                            Init.NORMAL),
                                    new HfTensor(
                                            p + "self_attn.v_proj.weight",
                                            new Shape(kv, e),
                                            Init.NORMAL))));
            if (attn.qkvBias() != null) {
                list.add(
                        fused(
                                p + "self_attn.qkv_proj.bias",
                                attn.qkvBias(),
                                List.of(
                                        new HfTensor(
                                                p + "self_attn.q_proj.bias",
                                                new Shape(q),
                                                Init.ZEROS),
                                        new HfTensor(
                                                p + "self_attn.k_proj.bias",
                                                new Shape(kv),
                                                Init.ZEROS),
                                        new HfTensor(
                                                p + "self_attn.v_proj.bias",
                                                new Shape(kv),
                                                Init.ZEROS))));
            }
            list.add(single(p + "self_attn.o_proj.weight", attn.outWeight(), new Shape(e, q)));
            list.add(
                    single(
                            p + "post_attention_layernorm.weight",
                            layer.postAttentionNorm().weight(),
                            new Shape(e),
                            Init.ONES));
            list.add(
                    fused(
                            p + "mlp.gate_up_proj.weight",
                            layer.mlp().gateUpWeight(),
                            List.of(
                                    new HfTensor(
                                            p + "mlp.gate_proj.weight",
                                            new Shape(inter, e),
                                            Init.NORMAL),
                                    new HfTensor(
                                            p + "mlp.up_proj.weight",
                                            new Shape(inter, e),
                                            Init.NORMAL))));
            list.add(
                    single(
                            p + "mlp.down_proj.weight",
                            layer.mlp().downWeight(),
                            new Shape(e, inter)));
        }
        list.add(single("model.norm.weight", block.norm().weight(), new Shape(e), Init.ONES));
        if (block.lmHead() != null) {
            list.add(single("lm_head.weight", block.lmHead(), new Shape(v, e)));
        }
        return new WeightLayout(list);
    }

    /** Parameters in canonical order. */
    public List<Entry> entries() {
        return entries;
    }

    /** Every HF tensor of the checkpoint, in canonical order. */
    public List<HfTensor> hfTensors() {
        List<HfTensor> out = new ArrayList<>();
        for (Entry entry : entries) {
            out.addAll(entry.parts());
        }
        return out;
    }

    private static Entry single(String name, Parameter p, Shape shape) {
        return single(name, p, shape, Init.NORMAL);
    }

    private static Entry single(String name, Parameter p, Shape shape, Init init) {
        return new Entry(name, p, shape, List.of(new HfTensor(name, shape, init)));
    }

    private static Entry fused(String name, Parameter p, List<HfTensor> parts) {
        Shape first = parts.get(0).shape();
        long rows = 0;
        for (HfTensor t : parts) {
            rows += t.shape().get(0);
        }
        Shape shape = first.dimension() == 1 ? new Shape(rows) : new Shape(rows, first.get(1));
        return new Entry(name, p, shape, parts);
    }
}

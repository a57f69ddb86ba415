package dev.diffustream.policy.model;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * Sizes of the Qwen2/Dream transformer (recipe section {@code model}), readable from and writable
 * to a Hugging Face {@code config.json} (snake_case keys; unknown keys of real configs are ignored,
 * unsupported features such as {@code rope_scaling} are rejected). {@link #initSeed} and {@link
 * #device} are ours: they are not written to {@code config.json}.
 *
 * <p>Default: the tiny model of the local run (see {@link #defaults()}).
 */
public record ModelConfig(
        @JsonPropertyDescription("HF model_type written to config.json (Dream for DiffuCoder).")
                String modelType,
        @JsonPropertyDescription("V: rows of the embedding and of the LM head (>= tokenizer size).")
                int vocabSize,
        @JsonPropertyDescription("E: width of the residual stream.") int hiddenSize,
        @JsonPropertyDescription("I: width of the SwiGLU MLP (gate/up projections).")
                int intermediateSize,
        @JsonPropertyDescription("L: number of transformer layers.") int numHiddenLayers,
        @JsonPropertyDescription("H: query heads; head dim D = E / H.") int numAttentionHeads,
        @JsonPropertyDescription("Hk: key/value heads (grouped-query attention), divides H.")
                int numKeyValueHeads,
        @JsonPropertyDescription("RoPE base theta (Qwen2.5: 1e6).") double ropeTheta,
        @JsonPropertyDescription("RMSNorm epsilon.") double rmsNormEps,
        @JsonPropertyDescription("Whether the LM head reuses the embedding matrix.")
                boolean tieWordEmbeddings,
        @JsonPropertyDescription("Whether q/k/v projections have a bias (true for Qwen2/Dream).")
                boolean attentionBias,
        @JsonPropertyDescription("Longest sequence the checkpoint was trained for (informational).")
                int maxPositionEmbeddings,
        @JsonPropertyDescription("dtype of the stored weights: float32, float16 or bfloat16.")
                String torchDtype,
        @JsonPropertyDescription("Std of the normal init of weight matrices (fresh models only).")
                double initializerRange,
        @JsonPropertyDescription(
                        "<|mask|> id recorded in config.json (tokenizer is authoritative).")
                Integer maskTokenId,
        @JsonPropertyDescription("Padding id recorded in config.json (tokenizer is authoritative).")
                Integer padTokenId,
        @JsonPropertyDescription("BOS id recorded in config.json (tokenizer is authoritative).")
                Integer bosTokenId,
        @JsonPropertyDescription("EOS id recorded in config.json (tokenizer is authoritative).")
                Integer eosTokenId,
        @JsonPropertyDescription(
                        "Seed of the parameter init of a fresh model (not in config.json).")
                long initSeed,
        @JsonPropertyDescription("Device, dtype and threads of this process (not in config.json).")
                DeviceConfig device) {

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Set<String> DTYPES = Set.of("float32", "float16", "bfloat16");

    public ModelConfig {
        if (modelType == null || modelType.isBlank()) {
            throw new IllegalArgumentException("model.modelType must not be empty");
        }
        positive("vocabSize", vocabSize);
        positive("hiddenSize", hiddenSize);
        positive("intermediateSize", intermediateSize);
        positive("numHiddenLayers", numHiddenLayers);
        positive("numAttentionHeads", numAttentionHeads);
        positive("numKeyValueHeads", numKeyValueHeads);
        positive("maxPositionEmbeddings", maxPositionEmbeddings);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException(
                    "model.hiddenSize ("
                            + hiddenSize
                            + ") must be divisible by model.numAttentionHeads ("
                            + numAttentionHeads
                            + ")");
        }
        if ((hiddenSize / numAttentionHeads) % 2 != 0) {
            throw new IllegalArgumentException(
                    "head dim hiddenSize/numAttentionHeads = "
                            + hiddenSize / numAttentionHeads
                            + " must be even for rotary embeddings");
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException(
                    "model.numAttentionHeads ("
                            + numAttentionHeads
                            + ") must be a multiple of model.numKeyValueHeads ("
                            + numKeyValueHeads
                            + ")");
        }
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException("model.ropeTheta must be > 0, got " + ropeTheta);
        }
        if (!(rmsNormEps > 0) || rmsNormEps >= 1) {
            throw new IllegalArgumentException(
                    "model.rmsNormEps must be in (0, 1), got " + rmsNormEps);
        }
        if (!(initializerRange > 0)) {
            throw new IllegalArgumentException(
                    "model.initializerRange must be > 0, got " + initializerRange);
        }
        torchDtype = torchDtype == null ? "float32" : torchDtype.trim().toLowerCase(Locale.ROOT);
        if (!DTYPES.contains(torchDtype)) {
            throw new IllegalArgumentException(
                    "model.torchDtype must be one of " + DTYPES + ", got '" + torchDtype + "'");
        }
        tokenId("maskTokenId", maskTokenId, vocabSize);
        tokenId("padTokenId", padTokenId, vocabSize);
        tokenId("bosTokenId", bosTokenId, vocabSize);
        tokenId("eosTokenId", eosTokenId, vocabSize);
        if (device == null) {
            device = DeviceConfig.defaults();
        }
    }

    /**
     * The tiny model of the local run: V = 102 (the built-in {@link CharTokenizer}), E = 192, L =
     * 3, H = 4 (D = 48), Hk = 2, I = 512, untied head, RoPE θ = 10000, float32 on the CPU; 1.26 M
     * parameters.
     *
     * <p>Why: the local run must learn within minutes on 2 cores, and its two hot paths are a
     * sampler step (one forward over a group of G = 8 rows of a ~160-token prompt + K = 64
     * completion, 32 steps per group) and a training step (forward + backward over 3 passes × 8
     * rows of ~224 tokens). This is the smallest size in the range asked for (E 192–256, 3–4
     * layers), about 3 MFLOP per token of forward. Measured on our shared 2-core machine with 1
     * thread (the default, see {@link DeviceConfig#defaults()}; best of 9 under load): a sampler
     * step ~93 ms (≈ 3 s per 32-step group) and a training forward + backward ~0.85 s; with 2
     * threads on a quiet machine a step took ~80 ms. E = 256 costs ~1.7× as much; E = 128 with 3
     * layers ~0.6× (58 ms per step, the only size measured under 2 s per group on one thread). A
     * 10-minute pretraining run sees a few million tokens, about the compute-optimal budget of a ~1
     * M parameter model.
     */
    public static ModelConfig defaults() {
        CharTokenizer tok = CharTokenizer.standard();
        return new ModelConfig(
                "Dream",
                tok.vocabSize(),
                192,
                512,
                3,
                4,
                2,
                10_000.0,
                1e-6,
                false,
                true,
                1024,
                "float32",
                0.02,
                tok.maskId(),
                tok.padId(),
                tok.endOfTextId(),
                tok.imEndId(),
                1234L,
                DeviceConfig.defaults());
    }

    /** D: width of one attention head. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** g = H / Hk: query heads per key/value head. */
    public int queryGroups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** Rows of the fused q/k/v projection: (H + 2·Hk)·D. */
    public int qkvSize() {
        return (numAttentionHeads + 2 * numKeyValueHeads) * headDim();
    }

    /** Number of scalar parameters (with the head counted once when tied). */
    public long parameterCount() {
        long e = hiddenSize;
        long perLayer =
                e * qkvSize()
                        + (attentionBias ? qkvSize() : 0)
                        + (long) numAttentionHeads * headDim() * e
                        + 3L * e * intermediateSize
                        + 2 * e;
        return (long) vocabSize * e * (tieWordEmbeddings ? 1 : 2) + numHiddenLayers * perLayer + e;
    }

    /**
     * Analytic FLOPs of one forward pass over {@code rows} sequences of length {@code seqLen}: 2
     * FLOPs per multiply-add of every matmul (q/k/v, o, gate/up, down, LM head) plus the two
     * attention matmuls (Q·Kᵀ and P·V, 2·T·E multiply-adds per token and layer). Norms, RoPE,
     * softmax and element-wise ops are not counted. A backward pass costs about twice this.
     */
    public double forwardFlops(long rows, int seqLen) {
        double tokens = (double) rows * seqLen;
        double e = hiddenSize;
        double perTokenPerLayer =
                2 * e * qkvSize()
                        + 2 * (double) numAttentionHeads * headDim() * e
                        + 2 * 3 * e * intermediateSize
                        + 2 * 2 * (double) seqLen * numAttentionHeads * headDim();
        double head = 2 * e * vocabSize;
        return tokens * (numHiddenLayers * perTokenPerLayer + head);
    }

    /** Same config on another device / dtype / thread setting. */
    public ModelConfig withDevice(DeviceConfig newDevice) {
        return toBuilder().device(newDevice).build();
    }

    // ---------------------------------------------------------------- Hugging Face config.json

    /** Reads a Hugging Face {@code config.json}; {@link #device} and {@link #initSeed} default. */
    public static ModelConfig readHf(Path configJson) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(configJson.toFile());
        } catch (IOException e) {
            throw new IOException("cannot parse " + configJson + ": " + e.getMessage(), e);
        }
        try {
            return fromHf(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configJson + ": " + e.getMessage(), e);
        }
    }

    /** Builds a config from a parsed Hugging Face {@code config.json}. */
    public static ModelConfig fromHf(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("config.json must be a JSON object");
        }
        String act = text(root, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException(
                    "hidden_act '" + act + "' is not supported (only silu, as in Qwen2/Dream)");
        }
        if (root.hasNonNull("rope_scaling")) {
            throw new IllegalArgumentException(
                    "rope_scaling " + root.get("rope_scaling") + " is not supported");
        }
        if (root.path("use_sliding_window").asBoolean(false)) {
            throw new IllegalArgumentException("use_sliding_window=true is not supported");
        }
        int hidden = requiredInt(root, "hidden_size");
        int heads = requiredInt(root, "num_attention_heads");
        if (root.hasNonNull("head_dim")
                && heads > 0
                && root.get("head_dim").asInt() != hidden / heads) {
            throw new IllegalArgumentException(
                    "head_dim "
                            + root.get("head_dim").asInt()
                            + " differs from hidden_size/num_attention_heads = "
                            + hidden / heads
                            + "; not supported");
        }
        Builder b =
                builder()
                        .modelType(text(root, "model_type", "Dream"))
                        .vocabSize(requiredInt(root, "vocab_size"))
                        .hiddenSize(hidden)
                        .intermediateSize(requiredInt(root, "intermediate_size"))
                        .numHiddenLayers(requiredInt(root, "num_hidden_layers"))
                        .numAttentionHeads(heads)
                        .numKeyValueHeads(root.path("num_key_value_heads").asInt(heads))
                        .ropeTheta(root.path("rope_theta").asDouble(10_000.0))
                        .rmsNormEps(root.path("rms_norm_eps").asDouble(1e-6))
                        .tieWordEmbeddings(root.path("tie_word_embeddings").asBoolean(false))
                        .attentionBias(root.path("attention_bias").asBoolean(true))
                        .maxPositionEmbeddings(root.path("max_position_embeddings").asInt(32768))
                        .torchDtype(text(root, "torch_dtype", text(root, "dtype", "float32")))
                        .initializerRange(root.path("initializer_range").asDouble(0.02))
                        .maskTokenId(optionalInt(root, "mask_token_id"))
                        .padTokenId(optionalInt(root, "pad_token_id"))
                        .bosTokenId(optionalInt(root, "bos_token_id"))
                        .eosTokenId(optionalInt(root, "eos_token_id"));
        return b.build();
    }

    /** The Hugging Face {@code config.json} of this model (Dream layout). */
    public ObjectNode toHf() {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add("DreamModel");
        n.put("model_type", modelType);
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("num_key_value_heads", numKeyValueHeads);
        n.put("hidden_act", "silu");
        n.put("rope_theta", ropeTheta);
        n.putNull("rope_scaling");
        n.put("rms_norm_eps", rmsNormEps);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        n.put("attention_bias", attentionBias);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("use_sliding_window", false);
        n.put("attention_dropout", 0.0);
        n.put("initializer_range", initializerRange);
        n.put("torch_dtype", torchDtype);
        putId(n, "mask_token_id", maskTokenId);
        putId(n, "pad_token_id", padTokenId);
        putId(n, "bos_token_id", bosTokenId);
        putId(n, "eos_token_id", eosTokenId);
        n.put("use_cache", false);
        return n;
    }

    /** Writes {@link #toHf()} to {@code configJson}. */
    public void writeHf(Path configJson) throws IOException {
        Files.writeString(configJson, JSON.writeValueAsString(toHf()) + "\n");
    }

    // ---------------------------------------------------------------- builder

    public static Builder builder() {
        return defaults().toBuilder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Mutable copy of a config, for variants in code and tests. */
    public static final class Builder {
        private String modelType;
        private int vocabSize;
        private int hiddenSize;
        private int intermediateSize;
        private int numHiddenLayers;
        private int numAttentionHeads;
        private int numKeyValueHeads;
        private double ropeTheta;
        private double rmsNormEps;
        private boolean tieWordEmbeddings;
        private boolean attentionBias;
        private int maxPositionEmbeddings;
        private String torchDtype;
        private double initializerRange;
        private Integer maskTokenId;
        private Integer padTokenId;
        private Integer bosTokenId;
        private Integer eosTokenId;
        private long initSeed;
        private DeviceConfig device;

        private Builder(ModelConfig c) {
            modelType = c.modelType;
            vocabSize = c.vocabSize;
            hiddenSize = c.hiddenSize;
            intermediateSize = c.intermediateSize;
            numHiddenLayers = c.numHiddenLayers;
            numAttentionHeads = c.numAttentionHeads;
            numKeyValueHeads = c.numKeyValueHeads;
            ropeTheta = c.ropeTheta;
            rmsNormEps = c.rmsNormEps;
            tieWordEmbeddings = c.tieWordEmbeddings;
            attentionBias = c.attentionBias;
            maxPositionEmbeddings = c.maxPositionEmbeddings;
            torchDtype = c.torchDtype;
            initializerRange = c.initializerRange;
            maskTokenId = c.maskTokenId;
            padTokenId = c.padTokenId;
            bosTokenId = c.bosTokenId;
            eosTokenId = c.eosTokenId;
            initSeed = c.initSeed;
            device = c.device;
        }

        public Builder modelType(String v) {
            modelType = v;
            return this;
        }

        public Builder vocabSize(int v) {
            vocabSize = v;
            return this;
        }

        public Builder hiddenSize(int v) {
            hiddenSize = v;
            return this;
        }

        public Builder intermediateSize(int v) {
            intermediateSize = v;
            return this;
        }

        public Builder numHiddenLayers(int v) {
            numHiddenLayers = v;
            return this;
        }

        public Builder numAttentionHeads(int v) {
            numAttentionHeads = v;
            return this;
        }

        public Builder numKeyValueHeads(int v) {
            numKeyValueHeads = v;
            return this;
        }

        public Builder ropeTheta(double v) {
            ropeTheta = v;
            return this;
        }

        public Builder rmsNormEps(double v) {
            rmsNormEps = v;
            return this;
        }

        public Builder tieWordEmbeddings(boolean v) {
            tieWordEmbeddings = v;
            return this;
        }

        public Builder attentionBias(boolean v) {
            attentionBias = v;
            return this;
        }

        public Builder maxPositionEmbeddings(int v) {
            maxPositionEmbeddings = v;
            return this;
        }

        public Builder torchDtype(String v) {
            torchDtype = v;
            return this;
        }

        public Builder initializerRange(double v) {
            initializerRange = v;
            return this;
        }

        public Builder maskTokenId(Integer v) {
            maskTokenId = v;
            return this;
        }

        public Builder padTokenId(Integer v) {
            padTokenId = v;
            return this;
        }

        public Builder bosTokenId(Integer v) {
            bosTokenId = v;
            return this;
        }

        public Builder eosTokenId(Integer v) {
            eosTokenId = v;
            return this;
        }

        public Builder initSeed(long v) {
            initSeed = v;
            return this;
        }

        public Builder device(DeviceConfig v) {
            device = v;
            return this;
        }

        public ModelConfig build() {
            return new ModelConfig(
                    modelType,
                    vocabSize,
                    hiddenSize,
                    intermediateSize,
                    numHiddenLayers,
                    numAttentionHeads,
                    numKeyValueHeads,
                    ropeTheta,
                    rmsNormEps,
                    tieWordEmbeddings,
                    attentionBias,
                    maxPositionEmbeddings,
                    torchDtype,
                    initializerRange,
                    maskTokenId,
                    padTokenId,
                    bosTokenId,
                    eosTokenId,
                    initSeed,
                    device);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void positive(String key, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("model." + key + " must be > 0, got " + value);
        }
    }

    private static void tokenId(String key, Integer id, int vocab) {
        if (id != null && (id < 0 || id >= vocab)) {
            throw new IllegalArgumentException(
                    "model." + key + " = " + id + " is outside the vocabulary [0, " + vocab + ")");
        }
    }

    private static int requiredInt(JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || !v.canConvertToInt()) {
            throw new IllegalArgumentException(
                    "config.json needs an integer '" + key + "', got " + v);
        }
        return v.asInt();
    }

    private static Integer optionalInt(JsonNode root, String key) {
        JsonNode v = root.get(key);
        // Some configs list several EOS ids; the first is the one generation stops at.
        if (v != null && v.isArray() && v.size() > 0) {
            v = v.get(0);
        }
        return v != null && v.canConvertToInt() ? v.asInt() : null;
    }

    private static String text(JsonNode root, String key, String fallback) {
        JsonNode v = root.get(key);
        return v != null && v.isTextual() ? v.asText() : fallback;
    }

    private static void putId(ObjectNode n, String key, Integer id) {
        if (id == null) {
            n.putNull(key);
        } else {
            n.put(key, id);
        }
    }
}

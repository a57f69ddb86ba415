package dev.diffustream.policy.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {

    @TempDir Path tmp;

    /** The keys of the DiffuCoder-7B / Dream-7B config.json (Qwen2.5-7B sizes), plus extras. */
    private static final String DIFFUCODER_LIKE =
            "{\"architectures\":[\"DreamModel\"],\"attention_dropout\":0.0,"
                    + "\"auto_map\":{\"AutoConfig\":\"configuration_dream.DreamConfig\","
                    + "\"AutoModel\":\"modeling_dream.DreamModel\"},\"bos_token_id\":151643,"
                    + "\"eos_token_id\":151643,\"hidden_act\":\"silu\",\"hidden_size\":3584,"
                    + "\"initializer_range\":0.02,\"intermediate_size\":18944,"
                    + "\"mask_token_id\":151666,\"max_position_embeddings\":131072,"
                    + "\"max_window_layers\":28,\"model_type\":\"Dream\",\"num_attention_heads\":28,"
                    + "\"num_hidden_layers\":28,\"num_key_value_heads\":4,\"pad_token_id\":151643,"
                    + "\"rms_norm_eps\":1e-06,\"rope_scaling\":null,\"rope_theta\":1000000.0,"
                    + "\"sliding_window\":null,\"tie_word_embeddings\":false,"
                    + "\"torch_dtype\":\"bfloat16\",\"transformers_version\":\"4.46.2\","
                    + "\"use_cache\":false,\"use_sliding_window\":false,\"vocab_size\":152064}";

    @Test
    void shouldReadARealDreamConfigAndIgnoreUnknownKeysWhenParsing() throws Exception {
        // when
        ModelConfig c = ModelConfig.fromHf(new ObjectMapper().readTree(DIFFUCODER_LIKE));

        // then
        assertThat(c.modelType()).isEqualTo("Dream");
        assertThat(c.vocabSize()).isEqualTo(152064);
        assertThat(c.hiddenSize()).isEqualTo(3584);
        assertThat(c.intermediateSize()).isEqualTo(18944);
        assertThat(c.numHiddenLayers()).isEqualTo(28);
        assertThat(c.numAttentionHeads()).isEqualTo(28);
        assertThat(c.numKeyValueHeads()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.queryGroups()).isEqualTo(7);
        assertThat(c.ropeTheta()).isEqualTo(1_000_000.0);
        assertThat(c.rmsNormEps()).isEqualTo(1e-6);
        assertThat(c.tieWordEmbeddings()).isFalse();
        assertThat(c.attentionBias()).isTrue();
        assertThat(c.torchDtype()).isEqualTo("bfloat16");
        assertThat(c.maskTokenId()).isEqualTo(151666);
        assertThat(c.padTokenId()).isEqualTo(151643);
        assertThat(c.device()).isEqualTo(DeviceConfig.defaults());
        // Qwen2.5-7B has about 7.6 B parameters
        assertThat(c.parameterCount()).isBetween(7_500_000_000L, 7_700_000_000L);
    }

    @Test
    void shouldRoundTripThroughConfigJsonWhenWrittenAndRead() throws Exception {
        // given
        ModelConfig c =
                ModelConfig.defaults().toBuilder().tieWordEmbeddings(true).ropeTheta(1e6).build();
        Path file = tmp.resolve("config.json");

        // when
        c.writeHf(file);
        ModelConfig back = ModelConfig.readHf(file);

        // then: everything but our process-local fields survives
        assertThat(back).isEqualTo(c.toBuilder().initSeed(back.initSeed()).build());
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        assertThat(json.get("architectures").get(0).asText()).isEqualTo("DreamModel");
        assertThat(json.has("init_seed") || json.has("initSeed") || json.has("device")).isFalse();
    }

    @Test
    void shouldRejectUnsupportedFeaturesWithTheKeyWhenParsing() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertThatThrownBy(
                        () ->
                                ModelConfig.fromHf(
                                        json.readTree(
                                                DIFFUCODER_LIKE.replace(
                                                        "\"rope_scaling\":null",
                                                        "\"rope_scaling\":{\"type\":\"yarn\"}"))))
                .hasMessageContaining("rope_scaling");
        assertThatThrownBy(
                        () ->
                                ModelConfig.fromHf(
                                        json.readTree(
                                                DIFFUCODER_LIKE.replace("\"silu\"", "\"gelu\""))))
                .hasMessageContaining("hidden_act 'gelu'");
        assertThatThrownBy(() -> ModelConfig.fromHf(json.readTree("{\"hidden_size\": 8}")))
                .hasMessageContaining("'num_attention_heads'");
        Path bad = tmp.resolve("config.json");
        Files.writeString(
                bad,
                DIFFUCODER_LIKE.replace("\"num_key_value_heads\":4", "\"num_key_value_heads\":5"));
        assertThatThrownBy(() -> ModelConfig.readHf(bad))
                .hasMessageContaining(bad.toString())
                .hasMessageContaining(
                        "numAttentionHeads (28) must be a multiple of model.numKeyValueHeads (5)");
    }

    @Test
    void shouldShowTheValuesWhenValidationFails() {
        assertThatThrownBy(() -> ModelConfig.builder().hiddenSize(100).numAttentionHeads(3).build())
                .hasMessageContaining("hiddenSize (100)")
                .hasMessageContaining("numAttentionHeads (3)");
        assertThatThrownBy(
                        () ->
                                ModelConfig.builder()
                                        .hiddenSize(12)
                                        .numAttentionHeads(4)
                                        .numKeyValueHeads(2)
                                        .build())
                .hasMessageContaining("head dim hiddenSize/numAttentionHeads = 3 must be even");
        assertThatThrownBy(() -> ModelConfig.builder().maskTokenId(500).build())
                .hasMessageContaining("maskTokenId = 500 is outside the vocabulary [0, 102)");
        assertThatThrownBy(() -> ModelConfig.builder().torchDtype("int8").build())
                .hasMessageContaining("'int8'");
        assertThatThrownBy(
                        () ->
                                new DeviceConfig(
                                        dev.diffustream.policy.DeviceChoice.CPU, "bfloat16", 2, 1))
                .hasMessageContaining("bfloat16")
                .hasMessageContaining("converted on load");
        assertThatThrownBy(() -> DeviceConfig.defaults().withDtype("float64"))
                .hasMessageContaining("'float64'");
    }

    @Test
    void shouldMatchTheBuiltInTokenizerWhenDefault() {
        ModelConfig c = ModelConfig.defaults();
        CharTokenizer tok = CharTokenizer.standard();
        assertThat(c.vocabSize()).isEqualTo(tok.vocabSize());
        assertThat(c.maskTokenId()).isEqualTo(tok.maskId());
        assertThat(c.padTokenId()).isEqualTo(tok.padId());
        assertThat(c.eosTokenId()).isEqualTo(tok.imEndId());
        assertThat(c.device().dtype()).isEqualTo("float32");
        assertThat(c.device().threads()).isEqualTo(1);
    }

    @Test
    void shouldCountFlopsAnalyticallyWhenAsked() {
        // given: E=16, H=4, Hk=2 (D=4), I=24, L=2, V=11
        ModelConfig c =
                ModelConfig.builder()
                        .vocabSize(11)
                        .hiddenSize(16)
                        .numAttentionHeads(4)
                        .numKeyValueHeads(2)
                        .intermediateSize(24)
                        .numHiddenLayers(2)
                        .maskTokenId(1)
                        .padTokenId(0)
                        .bosTokenId(0)
                        .eosTokenId(2)
                        .build();

        // then: per token and layer 2·E·(H+2Hk)·D + 2·E·E + 2·3·E·I + 4·T·E; head 2·E·V
        int t = 10;
        double perLayer = 2 * 16 * 32 + 2 * 16 * 16 + 2 * 3 * 16 * 24 + 4 * t * 16;
        assertThat(c.forwardFlops(3, t)).isEqualTo(3 * t * (2 * perLayer + 2 * 16 * 11));
    }
}

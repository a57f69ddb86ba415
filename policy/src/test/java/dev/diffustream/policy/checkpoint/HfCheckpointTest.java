package dev.diffustream.policy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.model.WeightLayout;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import dev.diffustream.policy.tokenizer.Tokenizer;
import dev.diffustream.policy.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfCheckpointTest {

    private static final int[][] TOKENS = {{3, 7, 1, 9, 5, 2, 8}, {4, 4, 6, 0, 10, 2, 1}};

    @TempDir Path tmp;

    static ModelConfig tiny() {
        return ModelConfig.builder()
                .vocabSize(11)
                .hiddenSize(16)
                .numAttentionHeads(4)
                .numKeyValueHeads(2)
                .intermediateSize(24)
                .numHiddenLayers(2)
                .initializerRange(0.5)
                .maskTokenId(10)
                .padTokenId(0)
                .bosTokenId(null)
                .eosTokenId(1)
                .build();
    }

    @Test
    void shouldLoadBitExactWeightsAndKeepTheShaWhenSavedAndLoaded() throws IOException {
        // given
        Path dir = tmp.resolve("ckpt");
        try (PolicyModel model = PolicyModel.create(tiny());
                NDManager m = NDManager.newBaseManager()) {
            String before = WeightsDigest.of(model);

            // when
            HfCheckpoint.save(model, CharTokenizer.standard(), dir);
            try (PolicyModel loaded = HfCheckpoint.load(dir, DeviceConfig.defaults())) {
                // then
                assertThat(WeightsDigest.of(model)).isEqualTo(before);
                assertThat(WeightsDigest.of(loaded)).isEqualTo(before);
                assertThat(HfCheckpoint.sha256(dir)).isEqualTo(before);
                for (String name : model.parameters().keySet()) {
                    NDArray a = model.parameters().get(name).getArray();
                    NDArray b = loaded.parameters().get(name).getArray();
                    assertThat(b.toByteBuffer()).as(name).isEqualTo(a.toByteBuffer());
                }
                assertThat(
                                loaded.logits(m.create(TOKENS), null)
                                        .contentEquals(model.logits(m.create(TOKENS), null)))
                        .isTrue();
                assertThat(loaded.isTrainable()).isTrue();
                assertThat(loaded.config().withDevice(DeviceConfig.defaults()).hiddenSize())
                        .isEqualTo(16);
            }
        }
    }

    @Test
    void shouldWriteDreamTensorNamesAndConfigWhenSaved() throws IOException {
        // given
        Path dir = tmp.resolve("names");
        try (PolicyModel model = PolicyModel.create(tiny())) {
            // when
            HfCheckpoint.save(model, CharTokenizer.standard(), dir);
        }

        // then: exactly the module names of a Dream/DiffuCoder (Qwen2) checkpoint
        TreeSet<String> expected =
                new TreeSet<>(
                        List.of(
                                "model.embed_tokens.weight",
                                "model.norm.weight",
                                "lm_head.weight"));
        for (int i = 0; i < 2; i++) {
            String p = "model.layers." + i + ".";
            for (String s : List.of("q", "k", "v")) {
                expected.add(p + "self_attn." + s + "_proj.weight");
                expected.add(p + "self_attn." + s + "_proj.bias");
            }
            expected.add(p + "self_attn.o_proj.weight");
            expected.add(p + "mlp.gate_proj.weight");
            expected.add(p + "mlp.up_proj.weight");
            expected.add(p + "mlp.down_proj.weight");
            expected.add(p + "input_layernorm.weight");
            expected.add(p + "post_attention_layernorm.weight");
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            assertThat(new TreeSet<>(f.tensors().keySet())).isEqualTo(expected);
            assertThat(f.info("model.layers.1.self_attn.k_proj.weight").shape())
                    .isEqualTo(new Shape(8, 16));
            assertThat(f.info("model.layers.0.mlp.down_proj.weight").shape())
                    .isEqualTo(new Shape(16, 24));
            assertThat(f.metadata()).containsEntry("format", "pt");
        }
        JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertThat(config.get("model_type").asText()).isEqualTo("Dream");
        assertThat(config.get("num_key_value_heads").asInt()).isEqualTo(2);
        assertThat(config.get("torch_dtype").asText()).isEqualTo("float32");
        assertThat(config.get("tie_word_embeddings").asBoolean()).isFalse();
        assertThat(config.get("mask_token_id").asInt()).isEqualTo(10);
        Tokenizer tok = Tokenizers.load(dir);
        assertThat(tok).isEqualTo(CharTokenizer.standard());
    }

    @Test
    void shouldLoadShardedCheckpointWithTheSameShaWhenWeightsAreSplit() throws IOException {
        // given
        Path single = tmp.resolve("single");
        Path sharded = tmp.resolve("sharded");
        try (PolicyModel model = PolicyModel.create(tiny());
                NDManager m = NDManager.newBaseManager()) {
            HfCheckpoint.save(model, null, single);

            // when: shards of at most 3 KiB
            HfCheckpoint.save(
                    model,
                    null,
                    sharded,
                    HfCheckpoint.SaveOptions.defaults().withMaxShardBytes(3 * 1024));

            // then
            List<String> shards;
            try (Stream<Path> files = Files.list(sharded)) {
                shards =
                        files.map(p -> p.getFileName().toString())
                                .filter(n -> n.endsWith(".safetensors"))
                                .sorted()
                                .collect(Collectors.toList());
            }
            assertThat(shards.size()).isGreaterThan(2);
            assertThat(shards.get(0))
                    .isEqualTo(String.format("model-00001-of-%05d.safetensors", shards.size()));
            assertThat(Files.exists(sharded.resolve("model.safetensors"))).isFalse();
            JsonNode index =
                    new ObjectMapper()
                            .readTree(sharded.resolve("model.safetensors.index.json").toFile());
            assertThat(index.get("weight_map").size()).isEqualTo(model.layout().hfTensors().size());
            assertThat(index.get("metadata").get("total_size").asLong())
                    .isEqualTo(model.parameterCount() * 4);
            for (String shard : shards) {
                assertThat(Files.size(sharded.resolve(shard))).isLessThan(3 * 1024 + 2048);
            }
            assertThat(HfCheckpoint.sha256(sharded)).isEqualTo(HfCheckpoint.sha256(single));
            try (PolicyModel loaded = HfCheckpoint.load(sharded, DeviceConfig.defaults())) {
                assertThat(WeightsDigest.of(loaded)).isEqualTo(WeightsDigest.of(model));
                assertThat(
                                loaded.logits(m.create(TOKENS), null)
                                        .contentEquals(model.logits(m.create(TOKENS), null)))
                        .isTrue();
            }
        }
    }

    @Test
    void shouldConvertExactlyWhenABf16CheckpointWrittenInHfLayoutIsLoaded() throws IOException {
        // given: a bf16 checkpoint written byte by byte here (as transformers would), tied head,
        // no tokenizer; values are random bf16 numbers
        ModelConfig config =
                tiny().toBuilder().tieWordEmbeddings(true).torchDtype("bfloat16").build();
        Path dir = tmp.resolve("bf16");
        Files.createDirectories(dir);
        ObjectNode hf = config.toHf();
        hf.put("transformers_version", "4.46.2");
        hf.putObject("auto_map").put("AutoModel", "modeling_dream.DreamModel");
        Files.writeString(dir.resolve("config.json"), hf.toString());
        Map<String, short[]> bf16 = new java.util.TreeMap<>();
        SplittableRandom rng = new SplittableRandom(5);
        List<WeightLayout.HfTensor> tensors;
        try (PolicyModel shapeOnly = PolicyModel.create(config)) {
            tensors = shapeOnly.layout().hfTensors();
        }
        for (WeightLayout.HfTensor t : tensors) {
            short[] v = new short[(int) t.shape().size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = StDtype.toBf16((float) (rng.nextGaussian() * 0.5));
            }
            bf16.put(t.name(), v);
        }
        writeBf16File(dir.resolve("model.safetensors"), tensors, bf16);

        // when
        try (PolicyModel loaded = HfCheckpoint.load(dir, DeviceConfig.defaults());
                NDManager m = NDManager.newBaseManager()) {
            // then: every float32 weight is exactly its bf16 value
            assertThat(loaded.dataType()).isEqualTo(DataType.FLOAT32);
            assertThat(loaded.config().torchDtype()).isEqualTo("bfloat16");
            loaded.forEachHfTensor(
                    (t, value) -> {
                        float[] got = value.toFloatArray();
                        short[] want = bf16.get(t.name());
                        for (int i = 0; i < got.length; i++) {
                            assertThat(got[i]).isEqualTo(StDtype.fromBf16(want[i]));
                        }
                    });
            assertThat(loaded.parameters()).doesNotContainKey("lm_head.weight");
            assertThat(loaded.logits(m.create(TOKENS), null).isNaN().any().getBoolean()).isFalse();

            // and saving it back as bf16 reproduces the original bytes
            Path again = tmp.resolve("bf16-again");
            HfCheckpoint.save(
                    loaded, null, again, HfCheckpoint.SaveOptions.defaults().withDtype("bfloat16"));
            assertThat(HfCheckpoint.sha256(again)).isEqualTo(HfCheckpoint.sha256(dir));
            try (PolicyModel asHalf =
                    HfCheckpoint.load(dir, DeviceConfig.defaults().withDtype("float16"))) {
                assertThat(asHalf.dataType()).isEqualTo(DataType.FLOAT16);
                assertThat(asHalf.logits(m.create(TOKENS), null).isNaN().any().getBoolean())
                        .isFalse();
            }
        }
    }

    @Test
    void shouldNameTensorShapesAndFileWhenAShapeDoesNotMatch() throws IOException {
        // given: a checkpoint whose config claims a larger MLP than its weights have
        Path dir = tmp.resolve("mismatch");
        try (PolicyModel model = PolicyModel.create(tiny())) {
            HfCheckpoint.save(model, null, dir);
        }
        ObjectNode config =
                (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        config.put("intermediate_size", 32);
        Files.writeString(dir.resolve("config.json"), config.toString());

        // then
        assertThatThrownBy(() -> HfCheckpoint.load(dir, DeviceConfig.defaults()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("'model.layers.0.mlp.gate_proj.weight'")
                .hasMessageContaining("has shape [24, 16], expected [32, 16]")
                .hasMessageContaining("model.safetensors");
    }

    @Test
    void shouldNameTheMissingTensorWhenTheCheckpointLacksOne() throws IOException {
        // given: an untied config pointing at weights saved tied (no lm_head.weight)
        Path dir = tmp.resolve("missing");
        try (PolicyModel model =
                PolicyModel.create(tiny().toBuilder().tieWordEmbeddings(true).build())) {
            HfCheckpoint.save(model, null, dir);
        }
        ObjectNode config =
                (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        config.put("tie_word_embeddings", false);
        Files.writeString(dir.resolve("config.json"), config.toString());

        // then
        assertThatThrownBy(() -> HfCheckpoint.load(dir, DeviceConfig.defaults()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("tensor 'lm_head.weight' is missing")
                .hasMessageContaining("model.safetensors");
        assertThatThrownBy(() -> HfCheckpoint.load(tmp.resolve("nowhere"), DeviceConfig.defaults()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("no config.json");
    }

    @Test
    void shouldRefuseToOverwriteWhenTheDirectoryHoldsACheckpoint() throws IOException {
        Path dir = tmp.resolve("once");
        try (PolicyModel model = PolicyModel.create(tiny())) {
            HfCheckpoint.save(model, null, dir);
            assertThatThrownBy(() -> HfCheckpoint.save(model, null, dir))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("refusing to overwrite");
        }
    }

    @Test
    void shouldHotSwapWeightsInPlaceWhenLoadingANewCheckpoint() throws IOException {
        // given: an actor's model and a newer checkpoint from the learner
        Path dir = tmp.resolve("newer");
        try (PolicyModel actor = PolicyModel.create(tiny());
                PolicyModel learner = PolicyModel.create(tiny().toBuilder().initSeed(77).build())) {
            HfCheckpoint.save(learner, null, dir);
            NDArray before = actor.parameters().get("model.norm.weight").getArray();

            // when
            try (CheckpointReader reader = CheckpointReader.open(dir)) {
                actor.loadWeights(reader);
            }

            // then: same parameter objects, new values
            assertThat(actor.parameters().get("model.norm.weight").getArray()).isSameAs(before);
            assertThat(WeightsDigest.of(actor)).isEqualTo(HfCheckpoint.sha256(dir));
            assertThat(actor.parameters().get("model.embed_tokens.weight").getArray().hasGradient())
                    .isTrue();
        }
    }

    /** A safetensors file written by hand: header JSON, then little-endian bf16 values. */
    private static void writeBf16File(
            Path file, List<WeightLayout.HfTensor> tensors, Map<String, short[]> values)
            throws IOException {
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        List<String> order = new ArrayList<>(values.keySet()); // sorted, as transformers writes
        for (String name : order) {
            Shape shape =
                    tensors.stream()
                            .filter(t -> t.name().equals(name))
                            .findFirst()
                            .orElseThrow()
                            .shape();
            long bytes = values.get(name).length * 2L;
            header.append(",\"").append(name).append("\":{\"dtype\":\"BF16\",\"shape\":[");
            for (int i = 0; i < shape.dimension(); i++) {
                header.append(i == 0 ? "" : ",").append(shape.get(i));
            }
            header.append("],\"data_offsets\":[")
                    .append(offset)
                    .append(',')
                    .append(offset + bytes)
                    .append("]}");
            offset += bytes;
        }
        header.append('}');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out =
                ByteBuffer.allocate((int) (8 + h.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h);
        for (String name : order) {
            for (short s : values.get(name)) {
                out.putShort(s);
            }
        }
        Files.write(file, out.array());
    }
}

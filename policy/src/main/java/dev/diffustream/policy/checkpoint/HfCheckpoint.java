package dev.diffustream.policy.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.model.WeightLayout;
import dev.diffustream.policy.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checkpoints in the Hugging Face layout of a Dream/DiffuCoder (Qwen2) model, so a released
 * checkpoint loads when a user points at it and ours load in {@code transformers}:
 *
 * <pre>
 *   dir/config.json                       sizes (ModelConfig#toHf), torch_dtype = saved dtype
 *   dir/model.safetensors                 all tensors, or, when sharded:
 *   dir/model-00001-of-00003.safetensors  … and
 *   dir/model.safetensors.index.json      {"metadata": {"total_size": …}, "weight_map": {name: file}}
 *   dir/tokenizer.json                    when a tokenizer is given
 * </pre>
 *
 * Tensor names are those of the HF modules ({@code model.embed_tokens.weight}, {@code
 * model.layers.{i}.self_attn.{q,k,v,o}_proj.*}, {@code model.layers.{i}.mlp.{gate,up,down}_proj
 * .weight}, {@code model.layers.{i}.{input,post_attention}_layernorm.weight}, {@code
 * model.norm.weight}, {@code lm_head.weight} unless tied); see {@link WeightLayout}.
 *
 * <p>Save then load is bit-exact in the model's dtype; {@link WeightsDigest} gives the same sha
 * before and after. bf16/fp16/fp32 tensors are converted to the loading process's dtype. Extra
 * files (optimizer state, recipe) are the caller's: write them into the same directory, e.g. with
 * {@link Safetensors#write}.
 */
public final class HfCheckpoint {

    public static final String CONFIG_FILE = "config.json";
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfCheckpoint() {}

    /**
     * How to save.
     *
     * @param dtype on-disk dtype ({@code float32}, {@code float16}, {@code bfloat16}), or {@code
     *     null} for the model's own (bit-exact)
     * @param maxShardBytes largest shard in bytes; 0 writes one {@code model.safetensors}
     * @param metadata extra {@code __metadata__} entries of every weight file
     */
    public record SaveOptions(String dtype, long maxShardBytes, Map<String, String> metadata) {
        public SaveOptions {
            if (maxShardBytes < 0) {
                throw new IllegalArgumentException(
                        "maxShardBytes must be >= 0, got " + maxShardBytes);
            }
            if (dtype != null) {
                StDtype.ofTorchName(dtype.toLowerCase(Locale.ROOT));
            }
            metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        }

        /** Model dtype, one file, no extra metadata. */
        public static SaveOptions defaults() {
            return new SaveOptions(null, 0, Map.of());
        }

        public SaveOptions withDtype(String newDtype) {
            return new SaveOptions(newDtype, maxShardBytes, metadata);
        }

        public SaveOptions withMaxShardBytes(long bytes) {
            return new SaveOptions(dtype, bytes, metadata);
        }

        public SaveOptions withMetadata(Map<String, String> meta) {
            return new SaveOptions(dtype, maxShardBytes, meta);
        }
    }

    /** Saves {@code model} (and {@code tokenizer}, if not null) with default options. */
    public static void save(PolicyModel model, Tokenizer tokenizer, Path dir) throws IOException {
        save(model, tokenizer, dir, SaveOptions.defaults());
    }

    /**
     * Saves {@code model} into {@code dir} (created if needed).
     *
     * @throws IOException if {@code dir} already holds weights (checkpoints are immutable)
     */
    public static void save(PolicyModel model, Tokenizer tokenizer, Path dir, SaveOptions options)
            throws IOException {
        Files.createDirectories(dir);
        for (String existing : List.of(SINGLE_FILE, INDEX_FILE, CONFIG_FILE)) {
            if (Files.exists(dir.resolve(existing))) {
                throw new IOException(
                        dir
                                + " already holds a checkpoint ("
                                + existing
                                + "); refusing to overwrite");
            }
        }
        StDtype dtype =
                options.dtype() == null
                        ? StDtype.of(model.dataType())
                        : StDtype.ofTorchName(options.dtype().toLowerCase(Locale.ROOT));

        // Plan the shards in canonical order before touching the data.
        List<WeightLayout.HfTensor> tensors = model.layout().hfTensors();
        List<List<WeightLayout.HfTensor>> shards = new ArrayList<>();
        List<WeightLayout.HfTensor> current = new ArrayList<>();
        long currentBytes = 0;
        long total = 0;
        for (WeightLayout.HfTensor t : tensors) {
            long bytes = t.shape().size() * dtype.bytes();
            total += bytes;
            if (options.maxShardBytes() > 0
                    && !current.isEmpty()
                    && currentBytes + bytes > options.maxShardBytes()) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(t);
            currentBytes += bytes;
        }
        shards.add(current);
        boolean sharded = options.maxShardBytes() > 0 && shards.size() > 1;

        Map<String, String> weightMap = new TreeMap<>();
        List<String> fileNames = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            String name =
                    sharded
                            ? String.format(
                                    Locale.ROOT,
                                    "model-%05d-of-%05d.safetensors",
                                    i + 1,
                                    shards.size())
                            : SINGLE_FILE;
            fileNames.add(name);
            for (WeightLayout.HfTensor t : shards.get(i)) {
                weightMap.put(t.name(), name);
            }
        }

        // Stream the model's tensors shard by shard: one shard's entries at a time.
        for (int i = 0; i < shards.size(); i++) {
            writeShard(
                    model, dir.resolve(fileNames.get(i)), shards.get(i), dtype, options.metadata());
        }
        if (sharded) {
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata").put("total_size", total);
            ObjectNode map = index.putObject("weight_map");
            weightMap.forEach(map::put);
            Files.writeString(dir.resolve(INDEX_FILE), JSON.writeValueAsString(index) + "\n");
        }
        model.config().toBuilder()
                .torchDtype(dtype.torchName())
                .build()
                .writeHf(dir.resolve(CONFIG_FILE));
        if (tokenizer != null) {
            tokenizer.save(dir);
        }
    }

    private static void writeShard(
            PolicyModel model,
            Path file,
            List<WeightLayout.HfTensor> tensors,
            StDtype dtype,
            Map<String, String> metadata)
            throws IOException {
        // Each entry fetches its tensor from the model while the file is written: one tensor in
        // flight at a time, whatever the shard size.
        List<Safetensors.Entry> entries = new ArrayList<>();
        for (WeightLayout.HfTensor t : tensors) {
            entries.add(
                    new Safetensors.Entry(
                            t.name(),
                            dtype,
                            t.shape(),
                            out ->
                                    model.visitHfTensor(
                                            t.name(),
                                            (tensor, value) ->
                                                    Safetensors.entry(tensor.name(), value, dtype)
                                                            .bytes()
                                                            .writeTo(out))));
        }
        Safetensors.write(file, entries, metadata);
    }

    /** Reads {@code dir/config.json}. */
    public static ModelConfig readConfig(Path dir) throws IOException {
        Path config = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(config)) {
            throw new IOException("no " + CONFIG_FILE + " in " + dir);
        }
        return ModelConfig.readHf(config);
    }

    /** Loads a trainable model from {@code dir} onto {@code device}. */
    public static PolicyModel load(Path dir, DeviceConfig device) throws IOException {
        return load(dir, device, true);
    }

    /**
     * Loads a model from {@code dir} onto {@code device}, tensor by tensor.
     *
     * @param trainable whether the parameters require gradients
     * @throws IOException naming the tensor, the expected and found shapes and the file, when a
     *     tensor is missing or has the wrong shape
     */
    public static PolicyModel load(Path dir, DeviceConfig device, boolean trainable)
            throws IOException {
        ModelConfig config = readConfig(dir).withDevice(device);
        try (CheckpointReader reader = CheckpointReader.open(dir)) {
            return PolicyModel.fromSource(config, reader, trainable);
        }
    }

    /** The {@link WeightsDigest} of the weight files in {@code dir}. */
    public static String sha256(Path dir) throws IOException {
        return WeightsDigest.of(dir);
    }
}

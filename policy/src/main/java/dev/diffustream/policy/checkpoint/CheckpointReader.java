package dev.diffustream.policy.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.policy.model.TensorSource;
import dev.diffustream.policy.model.WeightLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The weights of a Hugging Face checkpoint directory, single-file ({@code model.safetensors}) or
 * sharded ({@code model.safetensors.index.json} + {@code model-0000i-of-0000n.safetensors}), read
 * one tensor at a time: shards are opened lazily and each tensor is mapped, converted and copied on
 * its own, so loading needs the model's memory plus one tensor.
 */
public final class CheckpointReader implements TensorSource, AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Map<String, String> weightMap; // tensor → file name
    private final Map<String, SafetensorsFile> open = new LinkedHashMap<>();
    private final String layout;

    private CheckpointReader(Path dir, Map<String, String> weightMap, String layout) {
        this.dir = dir;
        this.weightMap = weightMap;
        this.layout = layout;
    }

    /**
     * Opens the weights of {@code dir}.
     *
     * @throws IOException if the directory has neither weight layout, or the index is malformed
     */
    public static CheckpointReader open(Path dir) throws IOException {
        Path index = dir.resolve(HfCheckpoint.INDEX_FILE);
        Path single = dir.resolve(HfCheckpoint.SINGLE_FILE);
        if (Files.isRegularFile(index)) {
            JsonNode root;
            try {
                root = JSON.readTree(index.toFile());
            } catch (IOException e) {
                throw new IOException("cannot parse " + index + ": " + e.getMessage(), e);
            }
            JsonNode map = root.get("weight_map");
            if (map == null || !map.isObject() || map.size() == 0) {
                throw new IOException(index + " has no 'weight_map' object");
            }
            Map<String, String> weightMap = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String file = e.getValue().asText();
                if (file.contains("/") || file.contains("\\") || file.equals("..")) {
                    throw new IOException(
                            index + ": shard name '" + file + "' is not a plain file name");
                }
                weightMap.put(e.getKey(), file);
            }
            return new CheckpointReader(
                    dir, Collections.unmodifiableMap(weightMap), index.toString());
        }
        if (Files.isRegularFile(single)) {
            Map<String, String> weightMap = new TreeMap<>();
            try (SafetensorsFile f = SafetensorsFile.open(single)) {
                for (String name : f.tensors().keySet()) {
                    weightMap.put(name, HfCheckpoint.SINGLE_FILE);
                }
            }
            return new CheckpointReader(
                    dir, Collections.unmodifiableMap(weightMap), single.toString());
        }
        throw new IOException(
                dir
                        + " holds no weights: expected "
                        + HfCheckpoint.SINGLE_FILE
                        + " or "
                        + HfCheckpoint.INDEX_FILE);
    }

    /** Tensor name → shard file name (sorted by tensor name). */
    public Map<String, String> weightMap() {
        return weightMap;
    }

    /** The distinct weight files, in first-use order of the sorted tensor names. */
    public List<String> files() {
        return new ArrayList<>(new java.util.LinkedHashSet<>(weightMap.values()));
    }

    /** The header entry of {@code name} (opening its shard), or an error naming the tensor. */
    public TensorInfo info(String name) throws IOException {
        String file = weightMap.get(name);
        if (file == null) {
            throw new IOException("tensor '" + name + "' is missing from the checkpoint " + layout);
        }
        SafetensorsFile f = file(file);
        TensorInfo info = f.info(name);
        if (info == null) {
            throw new IOException(
                    "tensor '"
                            + name
                            + "' is listed in "
                            + layout
                            + " but missing from "
                            + f.path());
        }
        return info;
    }

    @Override
    public NDArray read(WeightLayout.HfTensor tensor, NDManager manager, DataType dtype)
            throws IOException {
        TensorInfo info = info(tensor.name());
        if (!info.shape().equals(tensor.shape())) {
            throw new IOException(
                    "tensor '"
                            + tensor.name()
                            + "' in "
                            + info.file()
                            + " has shape "
                            + info.shapeText()
                            + ", expected "
                            + new TensorInfo(
                                            tensor.name(),
                                            info.dtype(),
                                            tensor.shape(),
                                            info.file(),
                                            0,
                                            0)
                                    .shapeText()
                            + " (does config.json match the weights?)");
        }
        return file(weightMap.get(tensor.name())).read(info, manager, dtype);
    }

    /** The open reader of one weight file. */
    SafetensorsFile file(String fileName) throws IOException {
        SafetensorsFile f = open.get(fileName);
        if (f == null) {
            Path p = dir.resolve(fileName);
            if (!Files.isRegularFile(p)) {
                throw new IOException(
                        "weight file " + p + " named by " + layout + " does not exist");
            }
            f = SafetensorsFile.open(p);
            open.put(fileName, f);
        }
        return f;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafetensorsFile f : open.values()) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        open.clear();
        if (first != null) {
            throw first;
        }
    }
}

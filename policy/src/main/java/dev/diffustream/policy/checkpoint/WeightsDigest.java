package dev.diffustream.policy.checkpoint;

import ai.djl.ndarray.types.Shape;
import dev.diffustream.policy.model.PolicyModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sha256 that identifies a checkpoint's weights, the same whether computed from a model in
 * memory or from the files on disk (and independent of sharding and of tensor order in files).
 *
 * <p>Definition. For each tensor, with its Hugging Face name, safetensors dtype ({@code F32}, …),
 * shape and raw little-endian bytes, form the record
 *
 * <pre>
 *   UTF8(name) 0x00 ASCII(dtype) 0x00 ASCII("[d0,d1,…]") 0x00 sha256(bytes)
 * </pre>
 *
 * and hash the records in ascending order of name (Java {@code String} order): {@code sha256(rec₁ ‖
 * rec₂ ‖ …)}, written as 64 lowercase hex digits. Hashing each tensor's bytes separately lets both
 * sides stream tensors in whatever order they hold them.
 */
public final class WeightsDigest {

    private WeightsDigest() {}

    /** The digest of {@code model}'s weights as they would be saved in its own dtype. */
    public static String of(PolicyModel model) throws IOException {
        StDtype dtype = StDtype.of(model.dataType());
        Map<String, byte[]> records = new TreeMap<>();
        model.forEachHfTensor(
                (tensor, value) -> {
                    MessageDigest d = sha256();
                    ByteBuffer bytes = value.toByteBuffer();
                    d.update(bytes);
                    records.put(
                            tensor.name(),
                            record(tensor.name(), dtype, tensor.shape(), d.digest()));
                });
        return combine(records);
    }

    /** The digest of the weight files in checkpoint directory {@code dir}. */
    public static String of(Path dir) throws IOException {
        try (CheckpointReader reader = CheckpointReader.open(dir)) {
            Map<String, byte[]> records = new TreeMap<>();
            for (String name : reader.weightMap().keySet()) {
                TensorInfo info = reader.info(name);
                MessageDigest d = sha256();
                reader.file(reader.weightMap().get(name)).forEachRawChunk(info, d::update);
                records.put(name, record(name, info.dtype(), info.shape(), d.digest()));
            }
            return combine(records);
        }
    }

    private static byte[] record(String name, StDtype dtype, Shape shape, byte[] dataSha) {
        StringBuilder dims = new StringBuilder("[");
        for (int i = 0; i < shape.dimension(); i++) {
            if (i > 0) {
                dims.append(',');
            }
            dims.append(shape.get(i));
        }
        dims.append(']');
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] t = dtype.name().getBytes(StandardCharsets.US_ASCII);
        byte[] s = dims.toString().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(n.length + t.length + s.length + 3 + dataSha.length);
        b.order(ByteOrder.LITTLE_ENDIAN).put(n).put((byte) 0).put(t).put((byte) 0).put(s);
        b.put((byte) 0).put(dataSha);
        return b.array();
    }

    private static String combine(Map<String, byte[]> sortedRecords) {
        MessageDigest d = sha256();
        sortedRecords.values().forEach(d::update);
        return HexFormat.of().formatHex(d.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JVM", e);
        }
    }
}

package dev.diffustream.policy.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes safetensors files, Hugging Face compatible: names as given, a {@code
 * "__metadata__": {"format": "pt", …}} entry (transformers refuses files without it), the header
 * padded with spaces to a multiple of 8 bytes, tensors laid out in the order given.
 *
 * <p>We write our own files rather than with DJL's {@code NDList.encode(…, SAFETENSORS)}: DJL's
 * writer emits no {@code __metadata__}, no header padding and cannot write bfloat16. Files written
 * here are read by DJL's {@code NDList.decode} too (tested).
 *
 * <p>Use {@link #write(Path, NDList, Map)} / {@link #read(Path, NDManager)} for any named state
 * (optimizer moments, step counters) that should sit next to a checkpoint.
 */
public final class Safetensors {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {}

    /** One tensor to write: its name, on-disk dtype and shape, and where the bytes come from. */
    public record Entry(String name, StDtype dtype, Shape shape, ByteSource bytes) {
        long byteSize() {
            return shape.size() * dtype.bytes();
        }
    }

    /** Writes the little-endian bytes of one tensor. */
    @FunctionalInterface
    public interface ByteSource {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes named arrays (every array needs a unique {@link NDArray#getName()}) in their own
     * dtype. The file is written to a temporary sibling and moved into place.
     */
    public static void write(Path file, NDList arrays, Map<String, String> metadata)
            throws IOException {
        List<Entry> entries = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < arrays.size(); i++) {
            NDArray a = arrays.get(i);
            String name = a.getName();
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException(
                        "array "
                                + i
                                + " of "
                                + a.getShape()
                                + " has no name; safetensors needs one");
            }
            if (!seen.add(name)) {
                throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
            }
            entries.add(entry(name, a, StDtype.of(a.getDataType())));
        }
        write(file, entries, metadata);
    }

    /** An entry writing {@code array} as {@code dtype} (float32/float16 arrays may go to BF16). */
    public static Entry entry(String name, NDArray array, StDtype dtype) {
        Shape shape = array.getShape();
        DataType have = array.getDataType();
        if (dtype == StDtype.BF16) {
            if (have != DataType.FLOAT32 && have != DataType.FLOAT16) {
                throw new IllegalArgumentException(
                        name + ": cannot write " + have + " as BF16 (float tensors only)");
            }
            return new Entry(name, dtype, shape, out -> writeBf16(array, out));
        }
        if (StDtype.of(have) != dtype) {
            throw new IllegalArgumentException(
                    name + ": array is " + have + ", asked to write " + dtype);
        }
        return new Entry(name, dtype, shape, out -> writeBuffer(array.toByteBuffer(), out));
    }

    /** Writes {@code entries} in order, with {@code metadata} plus {@code format=pt}. */
    public static void write(Path file, List<Entry> entries, Map<String, String> metadata)
            throws IOException {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        meta.put("format", "pt");
        if (metadata != null) {
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name());
            t.put("dtype", e.dtype().name());
            ArrayNode dims = t.putArray("shape");
            for (long d : e.shape().getShape()) {
                dims.add(d);
            }
            ArrayNode offsets = t.putArray("data_offsets");
            offsets.add(offset);
            offset += e.byteSize();
            offsets.add(offset);
        }
        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padding = (8 - json.length % 8) % 8;
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, "." + file.getFileName(), ".tmp");
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                len.putLong(json.length + padding);
                out.write(len.array());
                out.write(json);
                for (int i = 0; i < padding; i++) {
                    out.write(' ');
                }
                for (Entry e : entries) {
                    CountingStream counted = new CountingStream(out);
                    e.bytes().writeTo(counted);
                    if (counted.count != e.byteSize()) {
                        throw new IOException(
                                e.name()
                                        + ": wrote "
                                        + counted.count
                                        + " bytes, header says "
                                        + e.byteSize());
                    }
                }
            }
            Files.move(
                    tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Reads every tensor of {@code file} into {@code manager}, named, in name order; bf16 becomes
     * float32.
     */
    public static NDList read(Path file, NDManager manager) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            NDList out = new NDList(f.tensors().size());
            for (TensorInfo info : f.tensors().values()) {
                NDArray a = f.read(info, manager, info.dtype().readType());
                a.setName(info.name());
                out.add(a);
            }
            return out;
        }
    }

    /** The {@code __metadata__} of {@code file}. */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return f.metadata();
        }
    }

    private static void writeBuffer(ByteBuffer data, OutputStream out) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IOException("big-endian platforms are not supported");
        }
        byte[] chunk = new byte[Math.min(1 << 20, Math.max(data.remaining(), 1))];
        while (data.hasRemaining()) {
            int n = Math.min(chunk.length, data.remaining());
            data.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    private static void writeBf16(NDArray array, OutputStream out) throws IOException {
        ByteBuffer data;
        if (array.getDataType() == DataType.FLOAT32) {
            data = array.toByteBuffer();
        } else {
            try (NDArray f32 = array.toType(DataType.FLOAT32, false)) {
                data = f32.toByteBuffer();
            }
        }
        data.order(ByteOrder.nativeOrder());
        byte[] chunk = new byte[1 << 16];
        int n = 0;
        while (data.remaining() >= 4) {
            short b = StDtype.toBf16(data.getFloat());
            chunk[n++] = (byte) b;
            chunk[n++] = (byte) (b >>> 8);
            if (n == chunk.length) {
                out.write(chunk, 0, n);
                n = 0;
            }
        }
        out.write(chunk, 0, n);
    }

    /** Counts bytes so a wrong {@link ByteSource} is caught instead of corrupting the file. */
    private static final class CountingStream extends OutputStream {
        private final OutputStream out;
        private long count;

        CountingStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}

package dev.diffustream.policy.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.policy.model.TorchMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads one safetensors file without loading it: the header is parsed and validated on open;
 * tensors are memory-mapped one region at a time and copied straight into torch memory, converted
 * to the requested dtype, so reading never needs the file twice in memory.
 *
 * <p>Format: an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON {@code
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [a, b]}, …, "__metadata__": {..}}}, then
 * the data; offsets are relative to the end of the header.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Largest header we accept (the format's own reference limit). */
    static final long MAX_HEADER = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final FileChannel channel;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private long chunkBytes = 256L * 1024 * 1024;

    private SafetensorsFile(
            Path path,
            FileChannel channel,
            Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates {@code path}. */
    public static SafetensorsFile open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) {
                throw new IOException(path + ": not a safetensors file (" + size + " bytes)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw new IOException(
                        path
                                + ": bad safetensors header length "
                                + headerLen
                                + " (file "
                                + size
                                + " bytes)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            JsonNode root;
            try {
                root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new IOException(
                        path + ": safetensors header is not JSON: " + e.getMessage(), e);
            }
            if (root == null || !root.isObject()) {
                throw new IOException(path + ": safetensors header must be a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, TensorInfo> tensors = new TreeMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                JsonNode v = e.getValue();
                if (name.equals("__metadata__")) {
                    v.fields()
                            .forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                String where = path + " tensor '" + name + "'";
                StDtype dtype = StDtype.parse(v.path("dtype").asText(null), where);
                JsonNode shapeNode = v.get("shape");
                JsonNode offsets = v.get("data_offsets");
                if (shapeNode == null
                        || !shapeNode.isArray()
                        || offsets == null
                        || !offsets.isArray()
                        || offsets.size() != 2) {
                    throw new IOException(where + ": needs 'shape' and two 'data_offsets'");
                }
                long[] dims = new long[shapeNode.size()];
                long numel = 1;
                for (int i = 0; i < dims.length; i++) {
                    dims[i] = shapeNode.get(i).asLong(-1);
                    if (dims[i] < 0) {
                        throw new IOException(where + ": bad shape " + shapeNode);
                    }
                    numel = Math.multiplyExact(numel, dims[i]);
                }
                long begin = offsets.get(0).asLong(-1);
                long end = offsets.get(1).asLong(-1);
                if (begin < 0 || end < begin || end > dataLen) {
                    throw new IOException(
                            where
                                    + ": data_offsets "
                                    + offsets
                                    + " outside the data section of "
                                    + dataLen
                                    + " bytes");
                }
                if (end - begin != numel * dtype.bytes()) {
                    throw new IOException(
                            where
                                    + ": "
                                    + (end - begin)
                                    + " bytes for shape "
                                    + shapeNode
                                    + " of "
                                    + dtype
                                    + " (expected "
                                    + numel * dtype.bytes()
                                    + ")");
                }
                tensors.put(
                        name,
                        new TensorInfo(
                                name,
                                dtype,
                                new Shape(dims),
                                path,
                                dataStart + begin,
                                dataStart + end));
            }
            return new SafetensorsFile(
                    path,
                    ch,
                    Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** Tensors by name (sorted). */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} string map (empty if absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The header entry of {@code name}, or {@code null}. */
    public TensorInfo info(String name) {
        return tensors.get(name);
    }

    /** Largest region mapped and converted at once (tests use small values). */
    void setChunkBytes(long chunkBytes) {
        this.chunkBytes = chunkBytes;
    }

    /**
     * Reads {@code name} into torch memory owned by {@code manager}, converted to {@code target}
     * (bf16 via float32). Large tensors are read in row chunks of at most 256 MiB.
     */
    public NDArray read(String name, NDManager manager, DataType target) throws IOException {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new IOException("tensor '" + name + "' is missing from " + path);
        }
        return read(info, manager, target);
    }

    NDArray read(TensorInfo info, NDManager manager, DataType target) throws IOException {
        Shape shape = info.shape();
        long rows = shape.dimension() == 0 ? 1 : shape.get(0);
        long rowBytes = rows == 0 ? 0 : info.byteSize() / rows;
        long rowsPerChunk =
                rowBytes == 0 ? Math.max(rows, 1) : Math.max(1, chunkBytes / Math.max(rowBytes, 1));
        if (rowsPerChunk >= rows || shape.dimension() == 0) {
            return readRegion(info, info.begin(), info.byteSize(), shape, manager, target);
        }
        try (NDManager scratch = manager.newSubManager()) {
            NDList chunks = new NDList();
            for (long r = 0; r < rows; r += rowsPerChunk) {
                long n = Math.min(rowsPerChunk, rows - r);
                Shape part = new Shape(n).addAll(shape.slice(1));
                chunks.add(
                        readRegion(
                                info,
                                info.begin() + r * rowBytes,
                                n * rowBytes,
                                part,
                                scratch,
                                target));
            }
            NDArray all = NDArrays.concat(chunks, 0);
            all.attach(manager);
            return all;
        }
    }

    private NDArray readRegion(
            TensorInfo info,
            long offset,
            long length,
            Shape shape,
            NDManager manager,
            DataType target)
            throws IOException {
        if (length > Integer.MAX_VALUE) {
            throw new IOException(
                    info.name() + ": region of " + length + " bytes is too large to map");
        }
        ByteBuffer region =
                length == 0
                        ? ByteBuffer.allocateDirect(0)
                        : channel.map(FileChannel.MapMode.READ_ONLY, offset, length);
        region.order(ByteOrder.LITTLE_ENDIAN);
        DataType source = info.dtype().readType();
        if (info.dtype() == StDtype.BF16) {
            region = bf16ToF32(region);
        }
        try (NDManager scratch = manager.newSubManager()) {
            // Aliases the mapped (or converted) buffer; the copy below lands in torch memory.
            NDArray view = scratch.create(region, shape, source);
            NDArray owned = TorchMemory.ownedCopy(view, target);
            owned.attach(manager);
            return owned;
        }
    }

    private static ByteBuffer bf16ToF32(ByteBuffer bf16) {
        int n = bf16.remaining() / 2;
        ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            out.putInt((bf16.getShort(2 * i) & 0xffff) << 16);
        }
        out.flip();
        return out;
    }

    /** Maps the raw bytes of {@code info} in chunks of at most {@code chunk} bytes, in order. */
    void forEachRawChunk(TensorInfo info, RawChunkConsumer consumer) throws IOException {
        long at = info.begin();
        while (at < info.end()) {
            long n = Math.min(chunkBytes, info.end() - at);
            ByteBuffer region = channel.map(FileChannel.MapMode.READ_ONLY, at, n);
            consumer.accept(region);
            at += n;
        }
    }

    /** Receives raw tensor bytes. */
    @FunctionalInterface
    interface RawChunkConsumer {
        void accept(ByteBuffer chunk) throws IOException;
    }

    /** Names of the tensors, sorted. */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position)
            throws IOException {
        long at = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, at);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            at += n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}

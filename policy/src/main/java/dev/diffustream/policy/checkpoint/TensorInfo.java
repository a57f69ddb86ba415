package dev.diffustream.policy.checkpoint;

import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;

/**
 * One entry of a safetensors header.
 *
 * @param begin absolute byte offset of the data in {@code file}
 * @param end absolute end offset (exclusive)
 */
public record TensorInfo(String name, StDtype dtype, Shape shape, Path file, long begin, long end) {

    /** Number of bytes. */
    public long byteSize() {
        return end - begin;
    }

    /** The shape as in the safetensors header, e.g. {@code [4, 8]}. */
    public String shapeText() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.dimension(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape.get(i));
        }
        return sb.append(']').toString();
    }
}

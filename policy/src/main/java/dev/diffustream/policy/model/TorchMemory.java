package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;

/**
 * Copies into memory that PyTorch allocated itself.
 *
 * <p>On the CPU, DJL's {@code manager.create(buffer, …)} <b>aliases</b> the Java (or memory-mapped)
 * buffer, and {@code toType(sameType, true)} returns a second handle to the same storage. Weights
 * must not live there: a mapped file is read-only, a Java buffer may be collected once the first
 * handle is closed, and an alignment that differs between runs could change which kernel MKL picks
 * (and so the last bits of results).
 *
 * <p>Inputs uploaded for a training step must not live there either: autograd keeps the tensors
 * that an op's backward pass reads (gather its index, mul its other factor, the embedding its token
 * ids) after the Java handle is gone. If a sub-manager closes the handle before {@code backward()}
 * and a GC runs, the backward pass reads freed memory: an "index … out of bounds" error, or, worse,
 * silently wrong gradients. {@link #upload} gives such inputs storage of their own.
 */
public final class TorchMemory {

    private TorchMemory() {}

    /** A torch-owned copy of {@code view} in {@code target}, in the manager of {@code view}. */
    public static NDArray ownedCopy(NDArray view, DataType target) {
        return view.getDataType() == target ? view.duplicate() : view.toType(target, false);
    }

    /** A torch-owned int32 tensor holding {@code data}, attached to {@code manager}. */
    public static NDArray upload(NDManager manager, int[] data, Shape shape) {
        return upload(manager, IntBuffer.wrap(data), shape, DataType.INT32);
    }

    /** A torch-owned int64 tensor holding {@code data}, attached to {@code manager}. */
    public static NDArray upload(NDManager manager, long[] data, Shape shape) {
        return upload(manager, LongBuffer.wrap(data), shape, DataType.INT64);
    }

    /** A torch-owned float32 tensor holding {@code data}, attached to {@code manager}. */
    public static NDArray upload(NDManager manager, float[] data, Shape shape) {
        return upload(manager, FloatBuffer.wrap(data), shape, DataType.FLOAT32);
    }

    private static NDArray upload(NDManager manager, Buffer data, Shape shape, DataType type) {
        try (NDManager scratch = manager.newSubManager()) {
            NDArray owned = ownedCopy(scratch.create(data, shape, type), type); // new storage
            owned.attach(manager);
            return owned;
        }
    }
}

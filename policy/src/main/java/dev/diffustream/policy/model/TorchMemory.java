package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Copies into memory that PyTorch allocated itself.
 *
 * <p>On the CPU, DJL's {@code manager.create(buffer, …)} <b>aliases</b> the Java (or memory-mapped)
 * buffer, and {@code toType(sameType, true)} returns a second handle to the same storage. Weights
 * must not live there: a mapped file is read-only, a Java buffer may be collected once the first
 * handle is closed, and an alignment that differs between runs could change which kernel MKL picks
 * (and so the last bits of results).
 */
public final class TorchMemory {

    private TorchMemory() {}

    /** A torch-owned copy of {@code view} in {@code target}, in the manager of {@code view}. */
    public static NDArray ownedCopy(NDArray view, DataType target) {
        return view.getDataType() == target ? view.duplicate() : view.toType(target, false);
    }
}

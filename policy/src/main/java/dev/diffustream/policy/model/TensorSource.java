package dev.diffustream.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;

/**
 * Where a model's weights come from, one Hugging Face tensor at a time (so a large checkpoint is
 * streamed, never held twice): a seeded init ({@link SeededInit}) or a checkpoint on disk (the
 * {@code checkpoint} package).
 */
public interface TensorSource {

    /**
     * Produces one HF tensor.
     *
     * @param tensor name, expected shape and init kind
     * @param manager owner of the result (its device is the model's)
     * @param dtype the model's dtype; the result must have it
     * @return an array of exactly {@code tensor.shape()} and {@code dtype}, in torch-owned memory
     * @throws IOException on a missing tensor, a wrong shape or unreadable data (the message names
     *     the tensor, expected and found shapes, and the file)
     */
    NDArray read(WeightLayout.HfTensor tensor, NDManager manager, DataType dtype)
            throws IOException;
}

package dev.diffustream.learner.replay;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.diffustream.policy.checkpoint.CheckpointReader;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.model.WeightLayout;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Tensor-by-tensor comparison of a model in memory with a checkpoint directory's weight files (in
 * float32, one tensor of each side in memory at a time): which parameters moved, and how far.
 */
public final class WeightsComparison {

    private WeightsComparison() {}

    /**
     * Compares every Hugging Face tensor of {@code replayed} with the same tensor in {@code
     * recordedDir}.
     *
     * @return one entry per tensor, largest {@link TensorDiff#maxAbsDiff} first (ties: most
     *     differing elements, then name)
     * @throws IOException if the directory lacks a tensor or has it in another shape
     */
    public static List<TensorDiff> compare(PolicyModel replayed, Path recordedDir)
            throws IOException {
        List<TensorDiff> out = new ArrayList<>();
        try (CheckpointReader reader = CheckpointReader.open(recordedDir);
                NDManager scratch = NDManager.newBaseManager(replayed.device())) {
            for (WeightLayout.HfTensor t : replayed.layout().hfTensors()) {
                float[] recorded;
                try (NDManager one = scratch.newSubManager()) {
                    NDArray a = reader.read(t, one, DataType.FLOAT32);
                    recorded = a.toFloatArray();
                }
                float[][] mine = new float[1][];
                replayed.visitHfTensor(
                        t.name(),
                        (tensor, value) ->
                                mine[0] = value.toType(DataType.FLOAT32, false).toFloatArray());
                out.add(TensorDiff.of(t.name(), mine[0], recorded));
            }
        }
        out.sort(
                Comparator.comparingDouble(TensorDiff::maxAbsDiff)
                        .reversed()
                        .thenComparing(Comparator.comparingLong(TensorDiff::differing).reversed())
                        .thenComparing(TensorDiff::name));
        return out;
    }
}

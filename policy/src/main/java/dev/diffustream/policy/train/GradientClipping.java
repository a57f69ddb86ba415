package dev.diffustream.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} (HF Trainer's {@code
 * max_grad_norm}; release 0.2, spec A.12): the L2 norm over all gradients together, and if it
 * exceeds the maximum every gradient is scaled by max / (norm + 1e-6).
 */
public final class GradientClipping {

    private GradientClipping() {}

    /**
     * The global gradient norm of the parameters that have a gradient.
     *
     * @return 0 when no parameter has a gradient
     */
    public static double globalNorm(Map<String, Parameter> params) {
        List<NDArray> grads = gradients(params);
        if (grads.isEmpty()) {
            return 0;
        }
        NDManager manager = grads.get(0).getManager();
        try (NDManager sm = manager.newSubManager()) {
            // one flat vector: a handful of tensor ops however many parameters there are
            NDList flat = new NDList(grads.size());
            for (NDArray g : grads) {
                g.attach(sm); // the view and everything derived from it close with sm
                flat.add(g.reshape(-1)); // (n_i) view
            }
            NDArray all = NDArrays.concat(flat).toType(DataType.FLOAT64, false); // (Σ n_i)
            return Math.sqrt(all.dot(all).getDouble()); // fp64 accumulation
        }
    }

    /**
     * Clips in place.
     *
     * @param maxNorm the maximum global norm; ≤ 0 disables clipping (the norm is still returned)
     * @return the global norm before clipping (what HF logs as {@code grad_norm})
     */
    public static double clipGlobalNorm(Map<String, Parameter> params, double maxNorm) {
        double norm = globalNorm(params);
        if (maxNorm > 0 && norm > maxNorm) {
            float coef = (float) (maxNorm / (norm + 1e-6));
            List<NDArray> grads = gradients(params);
            NoGrad.run(
                    () -> {
                        for (NDArray g : grads) {
                            g.muli(coef);
                        }
                        return null;
                    });
            grads.forEach(NDArray::close);
        }
        return norm;
    }

    /** Gradient views (to be closed) of the parameters that require a gradient. */
    static List<NDArray> gradients(Map<String, Parameter> params) {
        List<NDArray> out = new ArrayList<>(params.size());
        for (Parameter p : params.values()) {
            NDArray w = p.getArray();
            if (w.hasGradient()) {
                out.add(w.getGradient());
            }
        }
        return out;
    }
}

package dev.diffustream.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.diffustream.policy.DeviceRuntime;
import java.util.function.Supplier;

/** In-place parameter updates must not be recorded by autograd: run them with grad mode off. */
final class NoGrad {

    private NoGrad() {}

    static <T> T run(Supplier<T> body) {
        return DeviceRuntime.noGrad(body);
    }

    /** Zeroes the gradient buffer of a parameter array in place. */
    static void zeroGrad(NDArray array) {
        if (array instanceof PtNDArray pt) {
            JniUtils.zeroGrad(pt);
        } else {
            try (NDArray g = array.getGradient()) {
                g.subi(g);
            }
        }
    }
}

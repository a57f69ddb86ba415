package dev.diffustream.policy.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** Shape checks shared by the policy losses; messages name the argument and both shapes. */
final class LossInputs {

    private LossInputs() {}

    static void requireSameShape(String name, NDArray array, Shape expected) {
        if (array != null && !array.getShape().equals(expected)) {
            throw new IllegalArgumentException(
                    name + " must have shape " + expected + " like logps, got " + array.getShape());
        }
    }

    static void requireAdvantages(NDArray advantages, Shape logpsShape) {
        if (logpsShape.dimension() != 2) {
            throw new IllegalArgumentException("logps must be (B, K), got " + logpsShape);
        }
        if (advantages.getShape().dimension() != 1
                || advantages.getShape().get(0) != logpsShape.get(0)) {
            throw new IllegalArgumentException(
                    "advantages must be (B) with B = "
                            + logpsShape.get(0)
                            + ", got "
                            + advantages.getShape());
        }
    }
}

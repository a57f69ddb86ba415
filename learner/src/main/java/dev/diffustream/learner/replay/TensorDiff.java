package dev.diffustream.learner.replay;

/**
 * How far one weight tensor of a replay is from the recorded checkpoint's.
 *
 * @param name Hugging Face tensor name
 * @param elements number of elements
 * @param differing elements whose bits differ
 * @param maxAbsDiff largest absolute difference (0 when identical; +∞ when a side is NaN and the
 *     other not)
 */
public record TensorDiff(String name, long elements, long differing, double maxAbsDiff) {

    /** Compares two tensors element by element ({@code float} bits, then absolute difference). */
    public static TensorDiff of(String name, float[] replayed, float[] recorded) {
        if (replayed.length != recorded.length) {
            throw new IllegalArgumentException(
                    name
                            + ": replayed tensor has "
                            + replayed.length
                            + " elements, recorded "
                            + recorded.length);
        }
        long differing = 0;
        double max = 0;
        for (int i = 0; i < replayed.length; i++) {
            float a = replayed[i];
            float b = recorded[i];
            if (Float.floatToIntBits(a) != Float.floatToIntBits(b)) {
                differing++;
                double d = Math.abs((double) a - (double) b);
                max = Math.max(max, Double.isNaN(d) ? Double.POSITIVE_INFINITY : d);
            }
        }
        return new TensorDiff(name, replayed.length, differing, max);
    }

    public boolean identical() {
        return differing == 0;
    }
}

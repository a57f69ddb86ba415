package dev.diffustream.policy.tasks.acecode;

import java.util.Arrays;

/**
 * The NumPy statistics used by the difficulty filter of spec C.2, reproduced to the bit so that
 * rows at a threshold are kept or dropped exactly as {@code process_data.py} does.
 *
 * <ul>
 *   <li>{@link #sum}: {@code np.add.reduce} over float64, i.e. the identity 0.0 plus NumPy's
 *       pairwise summation (blocks of up to 128 summed with 8 accumulators, larger arrays split in
 *       halves rounded down to a multiple of 8). Checked against NumPy 1.24.2.
 *   <li>{@link #mean}: {@code np.mean} = sum / n.
 *   <li>{@link #std}: {@code np.std} with ddof = 0 (population): sqrt(sum((x - mean)²) / n).
 *   <li>{@link #percentile}: {@code np.percentile(a, q)} with the default "linear" method: virtual
 *       index (n − 1)·q/100 and NumPy's {@code _lerp}, which interpolates from the upper neighbour
 *       when the fraction is ≥ 0.5.
 * </ul>
 *
 * An empty input gives NaN for mean and std (as NumPy, which also warns) and is rejected by
 * percentile (NumPy raises IndexError).
 */
public final class NumPyStats {

    private static final int BLOCK = 128;

    private NumPyStats() {}

    /** {@code np.add.reduce(values)} for float64. */
    public static double sum(double[] values) {
        return 0.0 + pairwise(values, 0, values.length);
    }

    private static double pairwise(double[] a, int from, int n) {
        if (n < 8) {
            double res = -0.0;
            for (int i = 0; i < n; i++) {
                res += a[from + i];
            }
            return res;
        }
        if (n <= BLOCK) {
            double[] r = new double[8];
            System.arraycopy(a, from, r, 0, 8);
            int i = 8;
            for (; i < n - (n % 8); i += 8) {
                for (int j = 0; j < 8; j++) {
                    r[j] += a[from + i + j];
                }
            }
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) {
                res += a[from + i];
            }
            return res;
        }
        int n2 = n / 2;
        n2 -= n2 % 8;
        return pairwise(a, from, n2) + pairwise(a, from + n2, n - n2);
    }

    /** {@code np.mean(values)}; NaN when empty. */
    public static double mean(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        return sum(values) / values.length;
    }

    /** {@code np.std(values)} (ddof = 0); NaN when empty. */
    public static double std(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double mean = mean(values);
        double[] squares = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            double d = values[i] - mean;
            squares[i] = d * d;
        }
        return Math.sqrt(sum(squares) / values.length);
    }

    /**
     * {@code np.percentile(values, q)} with linear interpolation.
     *
     * @param q percentile in [0, 100]
     * @throws IllegalArgumentException if values is empty, contains NaN, or q is out of range
     */
    public static double percentile(double[] values, double q) {
        if (values.length == 0) {
            throw new IllegalArgumentException("percentile of an empty array");
        }
        if (!(q >= 0 && q <= 100)) {
            throw new IllegalArgumentException("percentile must be in [0, 100], got " + q);
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        if (Double.isNaN(sorted[sorted.length - 1])) {
            throw new IllegalArgumentException("percentile of an array containing NaN");
        }
        int n = sorted.length;
        double virtualIndex = (n - 1) * (q / 100.0);
        double previous = Math.floor(virtualIndex);
        double gamma = virtualIndex - previous;
        int lo = (int) Math.min(Math.max(previous, 0), n - 1);
        int hi = (int) Math.min(Math.max(previous + 1, 0), n - 1);
        return lerp(sorted[lo], sorted[hi], gamma);
    }

    /** NumPy's {@code _lerp}: a + (b − a)·t, or b − (b − a)·(1 − t) when t ≥ 0.5. */
    static double lerp(double a, double b, double t) {
        double diff = b - a;
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    }
}

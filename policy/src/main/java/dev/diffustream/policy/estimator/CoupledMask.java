package dev.diffustream.policy.estimator;

import java.util.SplittableRandom;

/**
 * One row's noise for the coupled estimator (spec A.4), drawn from the row's mask seed alone: first
 * t ~ U(tMin, tMax), then U_k ~ U[0,1) for k = 0..K−1. Completion token k is masked in the partial
 * pass X¹ when U_k &lt; t and in the complement X² otherwise (U_k ≥ t), so the two masks are exact
 * complements (spec A.15.7).
 *
 * @param t the mask ratio of the partial pass
 * @param partial partial[k] = U_k &lt; t
 */
public record CoupledMask(double t, boolean[] partial) {

    /** Draws the mask of one row. */
    public static CoupledMask draw(long seed, int k, double tMin, double tMax) {
        SplittableRandom rng = new SplittableRandom(seed);
        double t = tMin + (tMax - tMin) * rng.nextDouble();
        boolean[] partial = new boolean[k];
        for (int j = 0; j < k; j++) {
            partial[j] = rng.nextDouble() < t;
        }
        return new CoupledMask(t, partial);
    }
}

package dev.diffustream.policy.arness;

import java.util.Arrays;

/**
 * AR-ness of a decode order (spec §E; DiffuCoder §4.1, App. A.2): how left-to-right a diffusion
 * model decodes. A decode order (p_1, …, p_T) lists positions 0..T−1 in the order they were
 * revealed, one per step.
 *
 * <ul>
 *   <li><b>Local AR-ness@k</b> (NTP@k): I(t,k) = 1 when the k previously revealed positions are
 *       exactly p_t − 1, …, p_t − k in that order (p_{t−i} = p_t − i for i = 1..k, the "strictly
 *       increasing consecutive" reading of Fig. 3); the metric is (1/T)·Σ_t I(t,k).
 *   <li><b>Global AR-ness@k</b> (FMS@k): I(t,k) = 1 when p_t is one of the k leftmost positions
 *       still masked before step t; the metric is (1/T)·Σ_t I(t,k).
 * </ul>
 *
 * <p>Steps t ≤ k of local AR-ness have fewer than k predecessors; the paper does not say how it
 * counts them. {@link EarlySteps#ZERO} is the spec's convention (indicator 0, still divided by T),
 * under which left-to-right decoding scores (T − k)/T. {@link EarlySteps#PROMPT_PREFIX} treats the
 * prompt as revealed left to right just before step 1 (positions −1, −2, … precede position 0), so
 * that left-to-right decoding scores exactly 1.0 for every k. Global AR-ness has no such edge and
 * is 1.0 for left-to-right decoding under both.
 */
public final class ArNess {

    /** How local AR-ness counts the first k steps. */
    public enum EarlySteps {
        /** Spec §E: I(t,k) = 0 for t ≤ k, normalised by T. */
        ZERO,
        /** The prompt counts as revealed left to right before the completion. */
        PROMPT_PREFIX
    }

    private ArNess() {}

    /** Local AR-ness@k with the spec's convention ({@link EarlySteps#ZERO}). */
    public static double local(int[] order, int k) {
        return local(order, k, EarlySteps.ZERO);
    }

    /**
     * Local AR-ness@k of one decode order.
     *
     * @param order a permutation of 0..T−1 (one position revealed per step)
     * @param k ≥ 1
     */
    public static double local(int[] order, int k, EarlySteps early) {
        validate(order, k);
        int t = order.length;
        int hits = 0;
        for (int step = 0; step < t; step++) {
            boolean ok = true;
            for (int i = 1; i <= k && ok; i++) {
                int want = order[step] - i;
                if (step - i >= 0) {
                    ok = order[step - i] == want;
                } else {
                    // before the first step: only the prompt, revealed left to right
                    ok = early == EarlySteps.PROMPT_PREFIX && want == -(i - step);
                }
            }
            hits += ok ? 1 : 0;
        }
        return (double) hits / t;
    }

    /**
     * Global AR-ness@k of one decode order: the share of steps that reveal one of the k leftmost
     * still-masked positions.
     *
     * @param order a permutation of 0..T−1
     * @param k ≥ 1
     */
    public static double global(int[] order, int k) {
        validate(order, k);
        int t = order.length;
        // Fenwick tree over "already revealed" positions: rank of p among masked ones =
        // p − (number of revealed positions < p)
        int[] tree = new int[t + 1];
        int hits = 0;
        for (int p : order) {
            int revealedLeft = 0;
            for (int i = p; i > 0; i -= i & -i) {
                revealedLeft += tree[i];
            }
            int maskedLeft = p - revealedLeft;
            hits += maskedLeft < k ? 1 : 0;
            for (int i = p + 1; i <= t; i += i & -i) {
                tree[i]++;
            }
        }
        return (double) hits / t;
    }

    /** Mean local AR-ness@k over several decode orders (e.g. a benchmark's completions). */
    public static double meanLocal(int[][] orders, int k, EarlySteps early) {
        if (orders.length == 0) {
            throw new IllegalArgumentException("need at least one decode order");
        }
        double sum = 0;
        for (int[] o : orders) {
            sum += local(o, k, early);
        }
        return sum / orders.length;
    }

    /** Mean global AR-ness@k over several decode orders. */
    public static double meanGlobal(int[][] orders, int k) {
        if (orders.length == 0) {
            throw new IllegalArgumentException("need at least one decode order");
        }
        double sum = 0;
        for (int[] o : orders) {
            sum += global(o, k);
        }
        return sum / orders.length;
    }

    private static void validate(int[] order, int k) {
        if (order == null || order.length == 0) {
            throw new IllegalArgumentException("decode order must not be empty");
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int p = order[i];
            if (p < 0 || p >= order.length || seen[p]) {
                throw new IllegalArgumentException(
                        "decode order must be a permutation of 0.."
                                + (order.length - 1)
                                + "; bad entry "
                                + p
                                + " at step "
                                + i
                                + " in "
                                + Arrays.toString(order));
            }
            seen[p] = true;
        }
    }
}

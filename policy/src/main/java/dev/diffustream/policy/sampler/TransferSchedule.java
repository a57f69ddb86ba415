package dev.diffustream.policy.sampler;

/**
 * The time grid and the number of tokens revealed per step of Dream's sampler (spec D.2, D.3).
 *
 * <p>τ = linspace(1, eps, steps + 1) in float32, and at step i, with m_i masked positions per row,
 *
 * <pre>
 *   n_i = floor( m_i · (1 − τ_{i+1}/τ_i) )   for i &lt; steps − 1
 *   n_i = m_i                                for the last step
 * </pre>
 *
 * computed in float32 like Dream ({@code int(num_mask_token * (1 - s / t))}). With steps equal to
 * the number of new tokens this reveals 0 tokens at step 0, one per step after, and 2 at the last
 * step (the table of spec D.3) — not "new/steps per step".
 *
 * <p>The grid follows PyTorch's scalar linspace kernel (first half {@code start + step·i}, second
 * half {@code end − step·(steps − 1 − i)}); PyTorch's vectorised lanes may round the last bit
 * differently, which cannot change a floor here (the products are ≥ 1e-3 away from integers for the
 * tabulated settings).
 */
public final class TransferSchedule {

    private final float[] tau;

    /**
     * @param steps number of diffusion steps, ≥ 1
     * @param eps final time, in (0, 1)
     */
    public TransferSchedule(int steps, double eps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        if (!(eps > 0 && eps < 1)) {
            throw new IllegalArgumentException("eps must be in (0, 1), got " + eps);
        }
        this.tau = linspace(1f, (float) eps, steps + 1);
    }

    /** Number of steps. */
    public int steps() {
        return tau.length - 1;
    }

    /** τ_i for i in 0..steps (float32, as Dream). */
    public float tau(int i) {
        return tau[i];
    }

    /**
     * n_i: tokens revealed per row at step {@code step} when {@code masked} positions are still
     * masked in each row.
     */
    public int transferCount(int step, int masked) {
        if (step < 0 || step >= steps()) {
            throw new IllegalArgumentException("step must be in [0, " + steps() + "), got " + step);
        }
        if (step == steps() - 1) {
            return masked;
        }
        float t = tau[step];
        float s = tau[step + 1];
        float frac = 1f - s / t;
        return (int) ((float) masked * frac);
    }

    /**
     * Origin algorithm: probability that a masked position is revealed at {@code step} (1 − s/t,
     * and 1 at the last step).
     */
    public float revealProbability(int step) {
        if (step == steps() - 1) {
            return 1f;
        }
        return 1f - tau[step + 1] / tau[step];
    }

    /**
     * The per-step counts for a whole run that starts with {@code newTokens} masked positions per
     * row (what the non-origin algorithms reveal).
     */
    public static int[] counts(int newTokens, int steps, double eps) {
        TransferSchedule schedule = new TransferSchedule(steps, eps);
        int[] out = new int[steps];
        int masked = newTokens;
        for (int i = 0; i < steps; i++) {
            int n = Math.min(schedule.transferCount(i, masked), masked);
            out[i] = n;
            masked -= n;
        }
        return out;
    }

    static float[] linspace(float start, float end, int n) {
        float[] out = new float[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (float) (n - 1);
        int halfway = n / 2;
        for (int i = 0; i < n; i++) {
            out[i] = i < halfway ? start + step * i : end - step * (n - i - 1);
        }
        return out;
    }
}

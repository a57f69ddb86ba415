package dev.diffustream.policy.pretrain;

/**
 * Derives independent 64-bit seeds from a root seed and indices (SplitMix64 finaliser over a
 * running hash), so that every draw of a run is a pure function of (seed, step, row): a resumed run
 * needs no RNG state.
 */
public final class Seeds {

    private Seeds() {}

    /** A well-mixed seed for (root, parts...). */
    public static long mix(long root, long... parts) {
        long h = splitMix(root);
        for (long p : parts) {
            h = splitMix(h ^ splitMix(p + 0x9E3779B97F4A7C15L));
        }
        return h;
    }

    private static long splitMix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

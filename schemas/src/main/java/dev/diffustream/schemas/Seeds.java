package dev.diffustream.schemas;

import java.nio.charset.StandardCharsets;

/**
 * Derives component seeds from a run's root seed (STYLE rule 13): {@code derive(root, "actor", 3)}
 * is a fixed, well-mixed function of its arguments, so every seed in an event can be recomputed
 * from the root seed and the names that led to it.
 */
public final class Seeds {
    private Seeds() {}

    /** A seed for {@code component} and the given ids, from {@code root}. Never negative. */
    public static long derive(long root, String component, long... ids) {
        long h = mix(root ^ 0x9E3779B97F4A7C15L);
        for (byte b : component.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ (b & 0xFF));
        }
        for (long id : ids) {
            h = mix(h ^ id);
        }
        return h & Long.MAX_VALUE;
    }

    /** SplitMix64 finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

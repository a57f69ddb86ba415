package dev.diffustream.policy.tasks.acecode;

import java.util.Arrays;
import java.util.Locale;

/** The difficulty options of {@code process_data.py} (spec C.2). */
public enum Difficulty {
    /** No filter: every row is kept (MDC: any value other than easy/medium/hard). */
    NONE,
    /** Keep mean(accs) ≥ the 75th percentile of the means. Unused by the release. */
    EASY,
    /** Keep 25th ≤ mean(accs) ≤ 75th percentile of the means. Unused by the release. */
    MEDIUM,
    /**
     * Keep mean(accs) ≤ the 20th percentile of the means, then std(accs) ≥ the 40th percentile of
     * the standard deviations (both percentiles over the full input). The release's setting.
     */
    HARD;

    /** Parses a name case-insensitively. */
    public static Difficulty parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "unknown difficulty '"
                            + name
                            + "', expected one of "
                            + Arrays.toString(values()).toLowerCase(Locale.ROOT),
                    e);
        }
    }
}

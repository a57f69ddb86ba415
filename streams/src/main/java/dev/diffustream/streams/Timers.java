package dev.diffustream.streams;

/**
 * Keys of the wall-clock timer index ({@link AdvantageTopology#TIMERS_STORE}): {@code <kind><16 hex
 * digits of the due time>/<groupId>}. Fixed-width hex makes the byte order of the keys the order of
 * the due times, so "everything due by now" is one range scan instead of a scan of every group.
 */
final class Timers {
    private Timers() {}

    /** Close an open group at its deadline. */
    static final char DEADLINE = 'd';

    /** Forget a closed group (its late-record marker) after the retention time. */
    static final char FORGET = 'f';

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** The key of a timer of {@code kind} due at {@code dueMs} for {@code groupId}. */
    static String key(char kind, long dueMs, String groupId) {
        StringBuilder b = new StringBuilder(18 + groupId.length());
        b.append(kind);
        appendHex(b, dueMs);
        b.append('/').append(groupId);
        return b.toString();
    }

    /** The lowest possible key of {@code kind}. */
    static String from(char kind) {
        return String.valueOf(kind);
    }

    /**
     * An upper bound (inclusive) covering exactly the timers of {@code kind} due at or before
     * {@code nowMs}: {@code <kind><hex(now+1)>} sorts after every key due by now (same prefix
     * length, smaller time) and before every key due at now+1 or later (a proper prefix of them).
     */
    static String dueBy(char kind, long nowMs) {
        StringBuilder b = new StringBuilder(17);
        b.append(kind);
        appendHex(b, Math.max(0, nowMs) + 1);
        return b.toString();
    }

    /** The group id of a timer key. */
    static String groupId(String key) {
        return key.substring(18);
    }

    private static void appendHex(StringBuilder b, long value) {
        if (value < 0) {
            throw new IllegalArgumentException("timer due time must be >= 0, got " + value);
        }
        for (int shift = 60; shift >= 0; shift -= 4) {
            b.append(HEX[(int) (value >>> shift) & 0xf]);
        }
    }
}

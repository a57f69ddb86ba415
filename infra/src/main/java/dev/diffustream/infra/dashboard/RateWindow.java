package dev.diffustream.infra.dashboard;

/**
 * Records per second over the last minute, by record timestamp (not by when the dashboard read
 * them: a dashboard started on a finished run shows no throughput, one started on a live run shows
 * the pipeline's, even while it is still catching up). One bucket per second in a ring; records
 * older than the window are not counted, records up to a few seconds in the future (clock skew
 * between hosts) are kept for when their second comes.
 */
final class RateWindow {
    static final int WINDOW_SECONDS = 60;
    private static final int FUTURE_SECONDS = 5;
    private static final int SLOTS = WINDOW_SECONDS + FUTURE_SECONDS + 1;

    private final long[] seconds = new long[SLOTS];
    private final long[] counts = new long[SLOTS];
    private long total;

    RateWindow() {
        java.util.Arrays.fill(seconds, Long.MIN_VALUE);
    }

    /** Counts one record with timestamp {@code timestampMs}, seen at {@code nowMs}. */
    void add(long timestampMs, long nowMs) {
        total++;
        long sec = Math.floorDiv(timestampMs, 1000L);
        long now = Math.floorDiv(nowMs, 1000L);
        if (sec <= now - WINDOW_SECONDS || sec > now + FUTURE_SECONDS) {
            return;
        }
        int slot = (int) Math.floorMod(sec, (long) SLOTS);
        if (seconds[slot] != sec) {
            seconds[slot] = sec;
            counts[slot] = 0;
        }
        counts[slot]++;
    }

    /**
     * Records with a timestamp in the last {@value #WINDOW_SECONDS} seconds up to {@code nowMs}.
     */
    long lastMinute(long nowMs) {
        long now = Math.floorDiv(nowMs, 1000L);
        long sum = 0;
        for (int i = 0; i < SLOTS; i++) {
            if (seconds[i] > now - WINDOW_SECONDS && seconds[i] <= now) {
                sum += counts[i];
            }
        }
        return sum;
    }

    /** Every record counted, whatever its timestamp. */
    long total() {
        return total;
    }
}

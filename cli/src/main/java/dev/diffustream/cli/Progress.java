package dev.diffustream.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on standard error (redrawn with a carriage return on a terminal, printed
 * every few seconds as plain lines otherwise, so logs stay readable).
 */
final class Progress {
    private static final boolean TTY = System.console() != null;

    private final PrintWriter err;
    private final String label;
    private final long total;
    private final long started = System.nanoTime();
    private long lastPrint;
    private String suffix = "";

    Progress(PrintWriter err, String label, long total) {
        this.err = err;
        this.label = label;
        this.total = Math.max(1, total);
    }

    synchronized void update(long done) {
        long now = System.nanoTime();
        if (now - lastPrint < (TTY ? 200_000_000L : 5_000_000_000L) && done < total) {
            return;
        }
        lastPrint = now;
        double seconds = (now - started) / 1e9;
        double frac = Math.min(1.0, (double) done / total);
        double eta = frac > 0 ? seconds / frac - seconds : Double.NaN;
        int width = 30;
        int filled = (int) Math.round(frac * width);
        String bar = "#".repeat(filled) + "-".repeat(width - filled);
        String line =
                String.format(
                                Locale.ROOT,
                                "%s [%s] %d/%d %.0f%% %s elapsed, ETA %s",
                                label,
                                bar,
                                done,
                                total,
                                frac * 100,
                                clock(seconds),
                                Double.isNaN(eta) ? "?" : clock(eta))
                        + (suffix.isEmpty() ? "" : ", " + suffix);
        if (TTY) {
            err.print("\r" + line);
        } else {
            err.println(line);
        }
        err.flush();
    }

    /** Extra text shown after the bar (e.g. the current loss). */
    synchronized void setSuffix(String text) {
        this.suffix = text == null ? "" : text;
    }

    void update(int done) {
        update((long) done);
    }

    synchronized void done() {
        if (TTY) {
            err.println();
        }
        err.flush();
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}

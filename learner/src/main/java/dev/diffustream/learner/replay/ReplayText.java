package dev.diffustream.learner.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The human-readable lines of a replay (what {@code diffustream replay} prints). */
public final class ReplayText {

    private ReplayText() {}

    /** One line per compared checkpoint, e.g. {@code v3 step 6 identical fb13b9689a9f…}. */
    public static String checkpointLine(CheckpointCheck c) {
        String head = String.format(Locale.ROOT, "  v%-5d step %-6d ", c.version(), c.step());
        return switch (c.verdict()) {
            case IDENTICAL -> head + "identical   " + Replayer.abbrev(c.recordedSha256());
            case WITHIN_TOLERANCE ->
                    head
                            + String.format(
                                    Locale.ROOT,
                                    "drift       max abs diff %.3e in %s (%d of %d tensors"
                                            + " differ)",
                                    c.largest().maxAbsDiff(),
                                    c.largest().name(),
                                    c.tensorsDiffering(),
                                    c.tensorsCompared());
            case UNMEASURED ->
                    head
                            + "differs     sha256 "
                            + Replayer.abbrev(c.replayedSha256())
                            + " vs recorded "
                            + Replayer.abbrev(c.recordedSha256())
                            + " (files pruned: drift not measurable)";
            case DIVERGED -> head + "DIVERGED    " + Replayer.describe(c);
        };
    }

    /** The summary printed at the end. */
    public static List<String> summary(ReplayReport r) {
        List<String> out = new ArrayList<>();
        String counts =
                String.format(
                        Locale.ROOT,
                        "%d of %d batches, %d of %d steps, %d groups, %d members (%d dropped as"
                                + " stale), PyTorch threads %d",
                        r.batchesReplayed(),
                        r.batchesRecorded(),
                        r.stepsReplayed(),
                        r.stepsRecorded(),
                        r.groups(),
                        r.members(),
                        r.droppedStale(),
                        r.threads());
        switch (r.outcome()) {
            case IDENTICAL ->
                    out.add(
                            String.format(
                                    Locale.ROOT,
                                    "result      identical: %d of %d checkpoints sha256-identical;"
                                            + " %s",
                                    r.identicalCheckpoints(),
                                    r.checkpoints().size(),
                                    counts));
            case DRIFT ->
                    out.add(
                            String.format(
                                    Locale.ROOT,
                                    "result      drift within tolerance %.1e: %d of %d checkpoints"
                                            + " sha256-identical, max abs diff %.3e; %s",
                                    r.tolerance(),
                                    r.identicalCheckpoints(),
                                    r.checkpoints().size(),
                                    r.maxAbsDiff(),
                                    counts));
            case DIVERGED -> {
                Divergence d = r.divergence();
                out.add(
                        String.format(
                                Locale.ROOT,
                                "result      DIVERGED (%s) at step %d, batch %d, version %d: %s",
                                d.kind().name().toLowerCase(Locale.ROOT),
                                d.step(),
                                d.batch(),
                                d.version(),
                                d.message()));
                out.add(
                        String.format(
                                Locale.ROOT,
                                "            before it: %d of %d compared checkpoints"
                                        + " sha256-identical; %s",
                                r.identicalCheckpoints(),
                                r.checkpoints().size(),
                                counts));
            }
        }
        if (r.firstStepMismatch() != null) {
            out.add(
                    "first step whose statistics differ: step "
                            + r.firstStepMismatch().step()
                            + " ("
                            + r.firstStepMismatch().difference()
                            + ")");
        }
        out.add(
                String.format(
                        Locale.ROOT,
                        "time        batches replayed in %.1f s; the run's learner took %.1f s"
                                + " (TrainStep durations): %s; whole replay %.1f s (log, model"
                                + " load, hashing included)",
                        r.batchSeconds(),
                        r.recordedSeconds(),
                        Double.isNaN(r.speedRatio())
                                ? "no recorded time"
                                : String.format(Locale.ROOT, "%.2fx", r.speedRatio()),
                        r.wallSeconds()));
        return out;
    }
}

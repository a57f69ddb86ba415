package dev.diffustream.policy.tasks.acecode;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The difficulty filter of spec C.2 ({@code process_data.py} {@code main}).
 *
 * <p>For each row, {@code accs} = the {@code pass_rate}s of its inferences whose {@code model_name}
 * is in {@link #modelNames()} (default {@code qwen_coder_2.5}, {@code llama3_instruct}). The
 * thresholds are percentiles (NumPy, linear interpolation) of the per-row means and population
 * standard deviations over the <em>whole</em> input, computed before any row is dropped; "hard"
 * applies its two filters in sequence with those fixed thresholds. Arithmetic follows NumPy to the
 * bit ({@link NumPyStats}).
 *
 * <p><b>Rows with empty {@code accs}</b> (no inference from the chosen models): in NumPy their mean
 * and std are NaN, which would make every percentile NaN and every comparison false, so the release
 * would keep no row at all. We instead leave such rows out of the percentile computation; they are
 * still dropped by every filter (a NaN never satisfies a threshold), as in the release, and kept
 * only by {@link Difficulty#NONE}. If no row has any {@code accs}, filtering fails with an error
 * naming the model set, which is most likely misconfigured.
 *
 * @param difficulty which filter
 * @param modelNames the models whose pass rates count
 */
public record DifficultyFilter(Difficulty difficulty, Set<String> modelNames) {

    /** The model names of the release ({@code consider_models}). */
    public static final Set<String> DEFAULT_MODEL_NAMES =
            Set.of("qwen_coder_2.5", "llama3_instruct");

    public DifficultyFilter {
        Objects.requireNonNull(difficulty, "difficulty");
        modelNames = Set.copyOf(modelNames);
        if (difficulty != Difficulty.NONE && modelNames.isEmpty()) {
            throw new IllegalArgumentException(
                    "the difficulty filter needs at least one model name");
        }
    }

    /** The release's setting: hard, with the default model names. */
    public static DifficultyFilter hard() {
        return new DifficultyFilter(Difficulty.HARD, DEFAULT_MODEL_NAMES);
    }

    /** No filtering. */
    public static DifficultyFilter none() {
        return new DifficultyFilter(Difficulty.NONE, DEFAULT_MODEL_NAMES);
    }

    /**
     * The thresholds over the whole input.
     *
     * @param meanP20 20th percentile of the means (hard: keep mean ≤ this)
     * @param stdP40 40th percentile of the stds (hard: then keep std ≥ this)
     * @param meanP25 25th percentile of the means (medium: lower bound)
     * @param meanP75 75th percentile of the means (medium: upper bound; easy: keep mean ≥ this)
     * @param rowsWithAccs rows that contributed (non-empty accs)
     */
    public record Thresholds(
            double meanP20, double stdP40, double meanP25, double meanP75, int rowsWithAccs) {}

    /** The pass rates of the row's inferences by the chosen models, in inference order. */
    public double[] accs(AceCodeRow row) {
        List<Double> out = new ArrayList<>();
        for (AceCodeRow.Inference inf : row.inferences()) {
            if (modelNames.contains(inf.modelName())) {
                out.add(inf.passRate());
            }
        }
        double[] accs = new double[out.size()];
        for (int i = 0; i < accs.length; i++) {
            accs[i] = out.get(i);
        }
        return accs;
    }

    /**
     * The percentiles over every row with non-empty accs.
     *
     * @throws IllegalArgumentException if no row has any accs
     */
    public Thresholds thresholds(List<AceCodeRow> rows) {
        List<double[]> all = new ArrayList<>();
        for (AceCodeRow row : rows) {
            double[] accs = accs(row);
            if (accs.length > 0) {
                all.add(accs);
            }
        }
        if (all.isEmpty()) {
            throw new IllegalArgumentException(
                    "no row among "
                            + rows.size()
                            + " has an inference by the models "
                            + modelNames
                            + ": cannot compute difficulty thresholds");
        }
        double[] means = new double[all.size()];
        double[] stds = new double[all.size()];
        for (int i = 0; i < all.size(); i++) {
            means[i] = NumPyStats.mean(all.get(i));
            stds[i] = NumPyStats.std(all.get(i));
        }
        return new Thresholds(
                NumPyStats.percentile(means, 20),
                NumPyStats.percentile(stds, 40),
                NumPyStats.percentile(means, 25),
                NumPyStats.percentile(means, 75),
                all.size());
    }

    /** The rows this filter keeps, in input order. */
    public List<AceCodeRow> apply(List<AceCodeRow> rows) {
        if (difficulty == Difficulty.NONE) {
            return List.copyOf(rows);
        }
        Thresholds t = thresholds(rows);
        List<AceCodeRow> kept = new ArrayList<>();
        for (AceCodeRow row : rows) {
            if (keeps(t, row)) {
                kept.add(row);
            }
        }
        return kept;
    }

    /** Whether a row passes this filter under the given thresholds (false for empty accs). */
    public boolean keeps(Thresholds t, AceCodeRow row) {
        double[] accs = accs(row);
        if (accs.length == 0) {
            return difficulty == Difficulty.NONE;
        }
        double mean = NumPyStats.mean(accs);
        switch (difficulty) {
            case NONE:
                return true;
            case HARD:
                return mean <= t.meanP20() && NumPyStats.std(accs) >= t.stdP40();
            case MEDIUM:
                return t.meanP25() <= mean && mean <= t.meanP75();
            case EASY:
                return mean >= t.meanP75();
            default:
                throw new IllegalStateException(String.valueOf(difficulty));
        }
    }
}

package dev.diffustream.policy.estimator;

import java.util.Arrays;
import java.util.Objects;

/**
 * B sequences to score: a prompt (left-padded to a common length P) followed by a completion of K
 * tokens, and one mask seed per row.
 *
 * <p>Mask seeds: each row's noise (mask ratio t and the uniform matrix U) is drawn from a {@link
 * java.util.SplittableRandom} seeded by that row's seed alone — separate from the sampling RNG and
 * keyed by (completion, iteration) upstream (STYLE rule 13, spec A.10). The same (sequence, seed)
 * therefore gets the same masks in the actor (behaviour log-probs), in the learner (old, ref and
 * new log-probs) and in a replay.
 *
 * <p>Padding (spec A.15.6): when prompts have different lengths the batch carries an attention mask
 * (1 real, 0 pad) that the estimators pass to the model (pads neither attend nor are attended,
 * positions are pad-aware). The release scores without any mask; {@link #withoutAttentionMask()}
 * reproduces that.
 */
public final class ScoringBatch {

    private final int[][] prompts;
    private final int[][] completions;
    private final int[][] attention;
    private final long[] maskSeeds;

    private ScoringBatch(
            int[][] prompts, int[][] completions, int[][] attention, long[] maskSeeds) {
        this.prompts = prompts;
        this.completions = completions;
        this.attention = attention;
        this.maskSeeds = maskSeeds;
    }

    /**
     * Builds a batch, left-padding shorter prompts with {@code padId}.
     *
     * @param prompts B prompts (token ids), each of length ≥ 1
     * @param completions B completions, all of the same length K ≥ 1
     * @param maskSeeds B mask seeds
     * @param padId id used for left padding
     */
    public static ScoringBatch of(
            int[][] prompts, int[][] completions, long[] maskSeeds, int padId) {
        Objects.requireNonNull(prompts, "prompts");
        Objects.requireNonNull(completions, "completions");
        Objects.requireNonNull(maskSeeds, "maskSeeds");
        int rows = prompts.length;
        if (rows == 0) {
            throw new IllegalArgumentException("a scoring batch needs at least one row");
        }
        if (completions.length != rows || maskSeeds.length != rows) {
            throw new IllegalArgumentException(
                    "prompts, completions and maskSeeds must have the same number of rows, got "
                            + rows
                            + ", "
                            + completions.length
                            + " and "
                            + maskSeeds.length);
        }
        int promptLen = 0;
        for (int b = 0; b < rows; b++) {
            if (prompts[b] == null || prompts[b].length == 0) {
                throw new IllegalArgumentException(
                        "prompt row " + b + " is empty: the shifted logits need a prompt token");
            }
            promptLen = Math.max(promptLen, prompts[b].length);
        }
        int k = completions[0] == null ? 0 : completions[0].length;
        if (k == 0) {
            throw new IllegalArgumentException("completion row 0 is empty");
        }
        int[][] padded = new int[rows][promptLen];
        int[][] att = null;
        for (int b = 0; b < rows; b++) {
            if (completions[b] == null || completions[b].length != k) {
                throw new IllegalArgumentException(
                        "completion row "
                                + b
                                + " has length "
                                + (completions[b] == null ? "null" : completions[b].length)
                                + ", expected K = "
                                + k);
            }
            int offset = promptLen - prompts[b].length;
            if (offset > 0) {
                if (att == null) {
                    att = new int[rows][promptLen];
                    for (int[] r : att) {
                        Arrays.fill(r, 1);
                    }
                }
                Arrays.fill(att[b], 0, offset, 0);
            }
            Arrays.fill(padded[b], 0, offset, padId);
            System.arraycopy(prompts[b], 0, padded[b], offset, prompts[b].length);
        }
        int[][] comps = new int[rows][];
        for (int b = 0; b < rows; b++) {
            comps[b] = completions[b].clone();
        }
        return new ScoringBatch(padded, comps, att, maskSeeds.clone());
    }

    /** The G completions of one prompt (no padding). */
    public static ScoringBatch group(int[] prompt, int[][] completions, long[] maskSeeds) {
        Objects.requireNonNull(prompt, "prompt");
        int[][] prompts = new int[completions.length][];
        Arrays.fill(prompts, prompt);
        return of(prompts, completions, maskSeeds, 0);
    }

    /** The same sequences with other mask seeds (e.g. the next GRPO iteration's). */
    public ScoringBatch withMaskSeeds(long[] seeds) {
        if (seeds.length != rows()) {
            throw new IllegalArgumentException(
                    "need " + rows() + " mask seeds, got " + seeds.length);
        }
        return new ScoringBatch(prompts, completions, attention, seeds.clone());
    }

    /** The same batch scored without an attention mask, as the release does (spec A.5). */
    public ScoringBatch withoutAttentionMask() {
        return new ScoringBatch(prompts, completions, null, maskSeeds);
    }

    /** B. */
    public int rows() {
        return prompts.length;
    }

    /** P (after left padding). */
    public int promptLength() {
        return prompts[0].length;
    }

    /** K. */
    public int completionLength() {
        return completions[0].length;
    }

    /** L = P + K. */
    public int sequenceLength() {
        return promptLength() + completionLength();
    }

    /** Prompt token at (row, position), position in 0..P−1 (pads included). */
    public int promptToken(int row, int pos) {
        return prompts[row][pos];
    }

    /** Completion token y_k of a row. */
    public int completionToken(int row, int k) {
        return completions[row][k];
    }

    /** A copy of the completions [B][K]. */
    public int[][] completions() {
        int[][] out = new int[completions.length][];
        for (int b = 0; b < out.length; b++) {
            out[b] = completions[b].clone();
        }
        return out;
    }

    /** Whether prompt position {@code pos} of {@code row} is a real token (not left padding). */
    public boolean isRealPromptToken(int row, int pos) {
        return attention == null || attention[row][pos] == 1;
    }

    /** Whether the batch carries an attention mask. */
    public boolean hasAttentionMask() {
        return attention != null;
    }

    /** The mask seed of a row. */
    public long maskSeed(int row) {
        return maskSeeds[row];
    }

    /**
     * The attention mask tiled {@code times} along the rows, flat (times·B·L), or null without
     * padding.
     */
    int[] tiledAttention(int times) {
        if (attention == null) {
            return null;
        }
        int rows = rows();
        int len = sequenceLength();
        int p = promptLength();
        int[] out = new int[times * rows * len];
        Arrays.fill(out, 1);
        for (int r = 0; r < times; r++) {
            for (int b = 0; b < rows; b++) {
                System.arraycopy(attention[b], 0, out, (r * rows + b) * len, p);
            }
        }
        return out;
    }
}

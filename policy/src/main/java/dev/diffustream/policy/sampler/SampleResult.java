package dev.diffustream.policy.sampler;

/**
 * What {@link DreamSampler} returns for a batch of G rows.
 *
 * @param completions [G][K] completion token ids (K = max new tokens), exactly as sampled,
 *     including tokens after EOS
 * @param decodeOrder [G][K] completion positions (0..K-1) in the order they were revealed; within
 *     one step, by decreasing confidence (ties: lower position first). Each row is a permutation.
 * @param revealStep [G][K] the step (0-based) at which each completion position was revealed
 * @param promptLength P, the common (left-padded) prompt length the rows were sampled with
 * @param steps the number of diffusion steps run
 */
public record SampleResult(
        int[][] completions, int[][] decodeOrder, int[][] revealStep, int promptLength, int steps) {

    /** G. */
    public int rows() {
        return completions.length;
    }

    /** K. */
    public int completionLength() {
        return completions.length == 0 ? 0 : completions[0].length;
    }
}

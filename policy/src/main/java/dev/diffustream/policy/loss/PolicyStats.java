package dev.diffustream.policy.loss;

/** Computes {@link PolicyLossStats} from downloaded (B·K) arrays; plain Java, no tensor ops. */
final class PolicyStats {

    private PolicyStats() {}

    /**
     * @param applied importance weights applied to the policy term, or null (all 1)
     * @param raw behaviour importance weights before capping, or null (all 1)
     * @param cappedTokens number of loss tokens whose weight exceeded the cap
     */
    static PolicyLossStats of(
            double loss,
            float[] ratio,
            float[] kl,
            float[] applied,
            float[] raw,
            float[] advantages,
            float[] mask,
            double epsilonLow,
            double epsilonHigh,
            long cappedTokens,
            int k) {
        double tokens = 0;
        double policy = 0;
        double klSum = 0;
        double low = 0;
        double high = 0;
        double weightSum = 0;
        for (int i = 0; i < ratio.length; i++) {
            double m = mask[i];
            if (m == 0) {
                continue;
            }
            double a = advantages[i / k];
            double r = ratio[i];
            double clipped = Math.min(Math.max(r, 1 - epsilonLow), 1 + epsilonHigh);
            double w = applied == null ? 1 : applied[i];
            policy += m * -Math.min(r * a, clipped * a) * w;
            klSum += kl == null ? 0 : m * kl[i];
            low += (r < 1 - epsilonLow && a < 0) ? m : 0;
            high += (r > 1 + epsilonHigh && a > 0) ? m : 0;
            weightSum += m * (raw == null ? 1 : raw[i]);
            tokens += m;
        }
        double n = Math.max(1, tokens);
        return new PolicyLossStats(
                loss,
                policy / n,
                klSum / n,
                low / n,
                high / n,
                (low + high) / n,
                tokens == 0 ? 1 : weightSum / tokens,
                cappedTokens / n,
                Math.round(tokens));
    }
}

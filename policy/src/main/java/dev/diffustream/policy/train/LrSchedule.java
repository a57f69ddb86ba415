package dev.diffustream.policy.train;

import dev.diffustream.policy.config.LrScheduleKind;

/**
 * A learning-rate schedule: the rate used by optimizer step {@code step} (0-based: the first update
 * uses {@code lr(0)}), as Hugging Face's {@code LambdaLR} schedules.
 *
 * <p>{@code cosine_with_min_lr} (spec A.12; {@code get_cosine_with_min_lr_schedule_with_warmup}
 * with half a cycle): with W warmup steps and S total steps,
 *
 * <pre>
 *   λ(s) = s / max(1, W)                                              for s &lt; W
 *   λ(s) = r + (1 − r) · ½(1 + cos(π · (s − W) / max(1, S − W)))        otherwise, r = min_lr_rate
 * </pre>
 *
 * W = ceil(warmup_ratio · S) as HF's {@code get_warmup_steps}. Note that with W ≥ 1 the first
 * update runs at rate 0, as in HF.
 */
@FunctionalInterface
public interface LrSchedule {

    /** The learning rate of 0-based optimizer step {@code step}. */
    double lr(long step);

    /**
     * @param kind the schedule
     * @param baseLr the peak rate
     * @param totalSteps S, ≥ 1
     * @param warmupRatio W / S, in [0, 1]
     * @param minLrRate r, in [0, 1] (cosine only)
     */
    static LrSchedule create(
            LrScheduleKind kind,
            double baseLr,
            long totalSteps,
            double warmupRatio,
            double minLrRate) {
        if (!(baseLr >= 0) || totalSteps < 1 || !(warmupRatio >= 0 && warmupRatio <= 1)) {
            throw new IllegalArgumentException(
                    "need baseLr >= 0, totalSteps >= 1, warmupRatio in [0, 1], got "
                            + baseLr
                            + ", "
                            + totalSteps
                            + ", "
                            + warmupRatio);
        }
        if (!(minLrRate >= 0 && minLrRate <= 1)) {
            throw new IllegalArgumentException("minLrRate must be in [0, 1], got " + minLrRate);
        }
        long warmup = (long) Math.ceil(warmupRatio * totalSteps);
        return switch (kind) {
            case CONSTANT -> step -> baseLr;
            case CONSTANT_WITH_WARMUP ->
                    step -> step < warmup ? baseLr * step / Math.max(1.0, warmup) : baseLr;
            case COSINE_WITH_MIN_LR ->
                    step -> {
                        if (step < warmup) {
                            return baseLr * step / Math.max(1.0, warmup);
                        }
                        double progress =
                                (double) (step - warmup) / Math.max(1, totalSteps - warmup);
                        double factor = 0.5 * (1 + Math.cos(Math.PI * progress));
                        factor = factor * (1 - minLrRate) + minLrRate;
                        return baseLr * Math.max(0, factor);
                    };
        };
    }
}

package dev.diffustream.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.diffustream.policy.config.GrpoConfig;
import java.util.Map;

/**
 * The reference-model soft sync of TRL's {@code SyncRefModelCallback} (spec A.11): every {@code
 * syncSteps} optimizer steps, θ_ref ← α·θ + (1−α)·θ_ref (release: every 64 steps, α = 0.6). The
 * paper's Algorithm 1 uses a hard update (α = 1).
 *
 * <p>{@code PolicyModel.softUpdateFrom} does the same update for two models of the model package;
 * {@link #softUpdate} works on any two parameter maps with the same names and shapes.
 */
public final class RefModelSync {

    private final boolean enabled;
    private final int syncSteps;
    private final double alpha;

    public RefModelSync(boolean enabled, int syncSteps, double alpha) {
        if (syncSteps < 1 || !(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException(
                    "need syncSteps >= 1 and alpha in [0, 1], got " + syncSteps + ", " + alpha);
        }
        this.enabled = enabled;
        this.syncSteps = syncSteps;
        this.alpha = alpha;
    }

    /** The release settings of a GRPO config. */
    public static RefModelSync fromConfig(GrpoConfig config) {
        return new RefModelSync(
                config.syncRefModel(), config.refModelSyncSteps(), config.refModelMixupAlpha());
    }

    /** α. */
    public double alpha() {
        return alpha;
    }

    /**
     * Whether a sync is due after optimizer step {@code globalStep} (1-based, as HF's {@code
     * state.global_step} at {@code on_step_end}).
     */
    public boolean isDue(long globalStep) {
        return enabled && globalStep > 0 && globalStep % syncSteps == 0;
    }

    /** Applies the update if due; returns whether it did. */
    public boolean maybeSync(
            long globalStep, Map<String, Parameter> policy, Map<String, Parameter> reference) {
        if (!isDue(globalStep)) {
            return false;
        }
        softUpdate(policy, reference, alpha);
        return true;
    }

    /** θ_ref ← α·θ + (1−α)·θ_ref in place, parameter by parameter (names must match). */
    public static void softUpdate(
            Map<String, Parameter> policy, Map<String, Parameter> reference, double alpha) {
        if (!policy.keySet().equals(reference.keySet())) {
            throw new IllegalArgumentException(
                    "policy and reference parameters differ: "
                            + policy.keySet()
                            + " vs "
                            + reference.keySet());
        }
        NoGrad.run(
                () -> {
                    for (Map.Entry<String, Parameter> e : reference.entrySet()) {
                        NDArray ref = e.getValue().getArray();
                        NDArray src = policy.get(e.getKey()).getArray();
                        if (!ref.getShape().equals(src.getShape())) {
                            throw new IllegalArgumentException(
                                    "parameter "
                                            + e.getKey()
                                            + " has shape "
                                            + src.getShape()
                                            + " in the policy but "
                                            + ref.getShape()
                                            + " in the reference");
                        }
                        try (NDArray scaled = src.mul((float) alpha)) {
                            ref.muli((float) (1 - alpha)).addi(scaled);
                        }
                    }
                    return null;
                });
    }
}

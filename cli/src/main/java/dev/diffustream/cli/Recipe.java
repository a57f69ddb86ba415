package dev.diffustream.cli;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.diffustream.infra.config.ConfigLoader;
import dev.diffustream.learner.LearnerConfig;
import dev.diffustream.learner.eval.EvalConfig;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.config.PolicyConfig;
import dev.diffustream.policy.config.PretrainConfig;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.producers.actor.ActorConfig;
import dev.diffustream.producers.feeder.FeederConfig;
import dev.diffustream.sandbox.SandboxConfig;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.schemas.config.RunConfig;
import dev.diffustream.streams.AdvantageConfig;

/**
 * The root of a recipe: one YAML file whose top-level sections bind to the config records of the
 * modules that use them (docs/CONTRIBUTING.md, "Configuration").
 *
 * <p><b>Adding a section</b> (e.g. {@code learner}): add a component
 * {@code @JsonPropertyDescription("…") LearnerConfig learner} here and {@code
 * LearnerConfig.defaults()} in {@link #defaults()}. Loading, environment variables ({@code
 * DIFFUSTREAM_LEARNER_…}), {@code config --describe} and {@code config --print} follow from the
 * record; nothing else to change.
 */
public record Recipe(
        @JsonPropertyDescription("Run identity, root seed and output directory.") RunConfig run,
        @JsonPropertyDescription(
                        "How to reach Kafka and the schema registry; topic prefix, partitions and"
                                + " client settings.")
                KafkaConfig kafka,
        @JsonPropertyDescription(
                        "Weights of the reward functions (total = code·pass + format·fmt).")
                RewardWeights rewards,
        @JsonPropertyDescription(
                        "Architecture of a fresh model (pretraining); a loaded checkpoint brings"
                                + " its own config.json.")
                ModelConfig model,
        @JsonPropertyDescription(
                        "Starting checkpoint, device and threads, system prompt of the policy.")
                PolicyConfig policy,
        @JsonPropertyDescription("Dream diffusion sampling of the actors (spec D.1).")
                SamplerConfig sampler,
        @JsonPropertyDescription(
                        "Coupled-GRPO: group size, iterations, estimator, loss, optimiser (spec A).")
                GrpoConfig grpo,
        @JsonPropertyDescription("Supervised masked-diffusion pretraining of the tiny model.")
                PretrainConfig pretrain,
        @JsonPropertyDescription("Isolated execution of completions: limits, workers, strictness.")
                SandboxConfig sandbox,
        @JsonPropertyDescription(
                        "Advantage topology: baseline, partial-group and zero-variance policies,"
                                + " deadlines.")
                AdvantageConfig advantages,
        @JsonPropertyDescription("Task feeder: suite, split, epochs, pacing.") FeederConfig feeder,
        @JsonPropertyDescription("Actors: staleness bound, synchronous mode, checkpoint loading.")
                ActorConfig actor,
        @JsonPropertyDescription("Learner: batches, staleness, checkpoints.") LearnerConfig learner,
        @JsonPropertyDescription("Held-out evaluation (pass@k through the sandbox).")
                EvalConfig eval) {

    public Recipe {
        if (run == null
                || kafka == null
                || rewards == null
                || model == null
                || policy == null
                || sampler == null
                || grpo == null
                || pretrain == null
                || sandbox == null
                || advantages == null
                || feeder == null
                || actor == null
                || learner == null
                || eval == null) {
            throw new IllegalArgumentException("every recipe section must be present");
        }
    }

    public static Recipe defaults() {
        return new Recipe(
                RunConfig.defaults(),
                KafkaConfig.defaults(),
                RewardWeights.defaults(),
                ModelConfig.defaults(),
                PolicyConfig.defaults(),
                SamplerConfig.defaults(),
                GrpoConfig.defaults(),
                PretrainConfig.defaults(),
                SandboxConfig.defaults(),
                AdvantageConfig.defaults(),
                FeederConfig.defaults(),
                ActorConfig.defaults(),
                LearnerConfig.defaults(),
                EvalConfig.defaults());
    }

    /**
     * A copy with the sections that a run resolves at start replaced; a {@code null} argument keeps
     * that section.
     */
    public Recipe withResolved(KafkaConfig k, PolicyConfig p, LearnerConfig l) {
        return new Recipe(
                run,
                k == null ? kafka : k,
                rewards,
                model,
                p == null ? policy : p,
                sampler,
                grpo,
                pretrain,
                sandbox,
                advantages,
                feeder,
                actor,
                l == null ? learner : l,
                eval);
    }

    /** The loader of recipes: defaults → YAML file → environment → command-line settings. */
    public static ConfigLoader<Recipe> loader() {
        return ConfigLoader.of(Recipe.class);
    }
}

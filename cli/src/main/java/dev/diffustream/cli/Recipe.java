package dev.diffustream.cli;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.diffustream.infra.config.ConfigLoader;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.schemas.config.RunConfig;

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
                RewardWeights rewards) {

    public Recipe {
        if (run == null || kafka == null || rewards == null) {
            throw new IllegalArgumentException("every recipe section must be present");
        }
    }

    public static Recipe defaults() {
        return new Recipe(RunConfig.defaults(), KafkaConfig.defaults(), RewardWeights.defaults());
    }

    /** The loader of recipes: defaults → YAML file → environment → command-line settings. */
    public static ConfigLoader<Recipe> loader() {
        return ConfigLoader.of(Recipe.class);
    }
}

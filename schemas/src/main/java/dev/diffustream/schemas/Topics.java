package dev.diffustream.schemas;

import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.DeadLetter;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.avro.TrainStep;
import dev.diffustream.schemas.registry.SchemaRegistry;
import dev.diffustream.schemas.serde.AvroSerde;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The typed topic registry (DESIGN.md, topic table): one definition per topic with its key, value
 * type and single writer, bound to a run prefix and to serdes that share one schema registry.
 *
 * <p>Keys are plain UTF-8 strings. The record key of completions, executions and advantages is the
 * group id, so a GRPO group and its executions land on the same partition; the identity of a
 * completion (dedup, idempotency) is its completion id, a field of the value.
 */
public final class Topics {

    /** Logs of the run are kept forever: replay needs every event. */
    private static final Map<String, String> KEEP_FOREVER =
            Map.of("cleanup.policy", "delete", "retention.ms", "-1", "retention.bytes", "-1");

    /** Metrics are operational: a week is enough. */
    private static final Map<String, String> KEEP_A_WEEK =
            Map.of("cleanup.policy", "delete", "retention.ms", "604800000");

    public static final TopicDef<Task> TASKS =
            new TopicDef<>("tasks", "taskId", Task.class, "feeder", false, false, KEEP_FOREVER);
    public static final TopicDef<Completion> COMPLETIONS =
            new TopicDef<>(
                    "completions", "groupId", Completion.class, "actor", true, false, KEEP_FOREVER);
    public static final TopicDef<Execution> EXECUTIONS =
            new TopicDef<>(
                    "executions", "groupId", Execution.class, "sandbox", true, false, KEEP_FOREVER);
    public static final TopicDef<AdvantageGroup> ADVANTAGES =
            new TopicDef<>(
                    "advantages",
                    "groupId",
                    AdvantageGroup.class,
                    "streams",
                    true,
                    false,
                    KEEP_FOREVER);
    public static final TopicDef<Checkpoint> CHECKPOINTS =
            new TopicDef<>(
                    "checkpoints", "runId", Checkpoint.class, "learner", false, true, KEEP_FOREVER);
    public static final TopicDef<TrainStep> TRAIN_STEPS =
            new TopicDef<>(
                    "train-steps", "runId", TrainStep.class, "learner", false, true, KEEP_FOREVER);
    public static final TopicDef<Metric> METRICS =
            new TopicDef<>(
                    "metrics", "source", Metric.class, "every service", false, false, KEEP_A_WEEK);
    public static final TopicDef<DeadLetter> DEAD_LETTERS =
            new TopicDef<>(
                    "dead-letters",
                    "original key",
                    DeadLetter.class,
                    "every consumer",
                    false,
                    false,
                    KEEP_FOREVER);

    /** Every topic, in pipeline order. */
    public static final List<TopicDef<?>> ALL =
            List.of(
                    TASKS,
                    COMPLETIONS,
                    EXECUTIONS,
                    ADVANTAGES,
                    CHECKPOINTS,
                    TRAIN_STEPS,
                    METRICS,
                    DEAD_LETTERS);

    private final String prefix;
    private final SchemaRegistry registry;

    /**
     * @param prefix prepended to every topic name so several runs can share a cluster (may be
     *     empty), e.g. {@code run7.}
     * @param registry registry shared by all value serdes
     */
    public Topics(String prefix, SchemaRegistry registry) {
        this.prefix = prefix == null ? "" : prefix;
        this.registry = registry;
    }

    /** The prefix in use. */
    public String prefix() {
        return prefix;
    }

    /** The registry the serdes use. */
    public SchemaRegistry registry() {
        return registry;
    }

    /** Binds a definition to this prefix and registry. */
    public <V extends SpecificRecord> Topic<V> bind(TopicDef<V> def) {
        return new Topic<>(
                def,
                def.name(prefix),
                Serdes.String(),
                AvroSerde.forValues(def.valueType(), registry));
    }

    public Topic<Task> tasks() {
        return bind(TASKS);
    }

    public Topic<Completion> completions() {
        return bind(COMPLETIONS);
    }

    public Topic<Execution> executions() {
        return bind(EXECUTIONS);
    }

    public Topic<AdvantageGroup> advantages() {
        return bind(ADVANTAGES);
    }

    public Topic<Checkpoint> checkpoints() {
        return bind(CHECKPOINTS);
    }

    public Topic<TrainStep> trainSteps() {
        return bind(TRAIN_STEPS);
    }

    public Topic<Metric> metrics() {
        return bind(METRICS);
    }

    public Topic<DeadLetter> deadLetters() {
        return bind(DEAD_LETTERS);
    }

    /** Looks a definition up by base name (as users type it on the command line). */
    public static Optional<TopicDef<?>> byBaseName(String baseName) {
        return ALL.stream().filter(d -> d.baseName().equals(baseName)).findFirst();
    }

    /**
     * Looks a definition up by base name.
     *
     * @throws IllegalArgumentException naming the known topics if there is no such topic
     */
    public static TopicDef<?> require(String baseName) {
        return byBaseName(baseName)
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "unknown topic '"
                                                + baseName
                                                + "'; known topics: "
                                                + ALL.stream()
                                                        .map(TopicDef::baseName)
                                                        .collect(Collectors.joining(", "))));
    }
}

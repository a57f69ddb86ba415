package dev.diffustream.streams;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.DeadLetter;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.config.RewardWeights;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The advantage topology (DESIGN.md, "streams"; spec A.8): completions and executions in, one
 * AdvantageGroup per GRPO group out.
 *
 * <pre>
 *  completions-source ─┐                                   ┌─► advantages-sink   (advantages)
 *                      ├─► join-score-group ───────────────┼─► metrics-sink      (metrics)
 *  executions-source ──┘     │ groups-store                └─► dead-letters-sink (dead-letters)
 *                            │ members-store
 *                            │ group-timers-store
 *  undecodable records ─► DeadLetterHandler ─► dead-letters (same transaction)
 * </pre>
 *
 * <p>Why the Processor API and not the DSL: a KStream-KStream join emits on each match and its
 * windows close only when stream time advances, so a stalled input would never close a group; the
 * group's close needs a wall-clock punctuator, count-based completion, dedup by completion id and
 * late-record detection all on the same per-group state. One processor with one small per-group
 * record (rewritten per event) and one payload entry per completion (written once) does this with
 * the fewest store writes, and both inputs are keyed by group id, so no repartition is needed
 * (completions and executions must be co-partitioned: same partition count, default partitioner).
 *
 * <p>Every node and store has an explicit name; changelog topics are {@code
 * <applicationId>-<store>-changelog}. {@link #buildTopology} is pure: the same call in tests and in
 * the service.
 */
public final class AdvantageTopology {
    private AdvantageTopology() {}

    public static final String COMPLETIONS_SOURCE = "completions-source";
    public static final String EXECUTIONS_SOURCE = "executions-source";
    public static final String GROUP_PROCESSOR = "join-score-group";
    public static final String ADVANTAGES_SINK = "advantages-sink";
    public static final String METRICS_SINK = "metrics-sink";
    public static final String DEAD_LETTERS_SINK = "dead-letters-sink";

    /** Group id → {@link GroupState} (open slots, or a closed marker). */
    public static final String GROUPS_STORE = "groups-store";

    /**
     * Completion id → the completion's payload as a not-yet-scored {@code AdvantageMember} ({@link
     * MemberPayloadSerde}).
     */
    public static final String MEMBERS_STORE = "members-store";

    /** Wall-clock timer index ({@link Timers}) → group id: deadlines and forget times. */
    public static final String TIMERS_STORE = "group-timers-store";

    /** {@code AdvantageGroup.dropReason} of a group with fewer than minMembers scored members. */
    public static final String DROP_PARTIAL = "partial";

    /** {@code AdvantageGroup.dropReason} of a zero-variance group under the {@code drop} policy. */
    public static final String DROP_ZERO_VARIANCE = "zero_variance";

    /**
     * Builds the topology.
     *
     * @param cfg policies and store settings
     * @param weights reward weights (the recipe's {@code rewards} section, spec B.2 step 7)
     * @param topics the run's topics; their serdes (and registry) are used for every source, sink
     *     and store
     */
    public static Topology buildTopology(
            AdvantageConfig cfg, RewardWeights weights, Topics topics) {
        Topic<Completion> completions = topics.completions();
        Topic<Execution> executions = topics.executions();
        Topic<AdvantageGroup> advantages = topics.advantages();
        Topic<Metric> metrics = topics.metrics();
        Topic<DeadLetter> deadLetters = topics.deadLetters();

        Topology topology = new Topology();
        topology.addSource(
                COMPLETIONS_SOURCE,
                completions.keySerde().deserializer(),
                completions.valueSerde().deserializer(),
                completions.name());
        topology.addSource(
                EXECUTIONS_SOURCE,
                executions.keySerde().deserializer(),
                executions.valueSerde().deserializer(),
                executions.name());
        topology.addProcessor(
                GROUP_PROCESSOR,
                () -> new GroupProcessor(cfg, weights, completions, executions),
                COMPLETIONS_SOURCE,
                EXECUTIONS_SOURCE);
        topology.addStateStore(store(cfg, GROUPS_STORE, new GroupStateSerde()), GROUP_PROCESSOR);
        topology.addStateStore(
                store(cfg, MEMBERS_STORE, new MemberPayloadSerde()), GROUP_PROCESSOR);
        topology.addStateStore(store(cfg, TIMERS_STORE, Serdes.String()), GROUP_PROCESSOR);
        topology.addSink(
                ADVANTAGES_SINK,
                advantages.name(),
                advantages.keySerde().serializer(),
                advantages.valueSerde().serializer(),
                GROUP_PROCESSOR);
        topology.addSink(
                METRICS_SINK,
                metrics.name(),
                metrics.keySerde().serializer(),
                metrics.valueSerde().serializer(),
                GROUP_PROCESSOR);
        topology.addSink(
                DEAD_LETTERS_SINK,
                deadLetters.name(),
                deadLetters.keySerde().serializer(),
                deadLetters.valueSerde().serializer(),
                GROUP_PROCESSOR);
        return topology;
    }

    private static <V> StoreBuilder<KeyValueStore<String, V>> store(
            AdvantageConfig cfg, String name, Serde<V> valueSerde) {
        KeyValueBytesStoreSupplier supplier =
                switch (cfg.storeType()) {
                    case ROCKSDB -> Stores.persistentKeyValueStore(name);
                    case IN_MEMORY -> Stores.inMemoryKeyValueStore(name);
                };
        // Changelogged (the default): a restarted or migrated task restores its groups exactly.
        // Cached: a group's state, rewritten on each of its records, reaches the changelog once
        // per commit.
        return Stores.keyValueStoreBuilder(supplier, Serdes.String(), valueSerde)
                .withCachingEnabled()
                .withLoggingEnabled(Map.of());
    }
}

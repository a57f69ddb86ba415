package dev.diffustream.schemas;

import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * The static definition of one topic: its base name (before the run's prefix), what its key is, its
 * value type, its single writer and its topic-level settings. Bound to serdes and a prefix by
 * {@link Topics#bind}.
 *
 * @param baseName name without prefix, e.g. {@code completions}
 * @param keyDoc what the (string) record key holds, e.g. {@code groupId}
 * @param valueType generated Avro value class
 * @param writer the single service that writes it
 * @param coPartitioned whether it must have the same partition count as the other co-partitioned
 *     topics (completions, executions, advantages: the join and group aggregation need no
 *     repartition)
 * @param singlePartition whether it has one partition regardless of config (per-run logs read in
 *     order: checkpoints, train-steps)
 * @param configs topic-level configs applied at creation (retention, cleanup policy)
 * @param <V> value type
 */
public record TopicDef<V extends SpecificRecord>(
        String baseName,
        String keyDoc,
        Class<V> valueType,
        String writer,
        boolean coPartitioned,
        boolean singlePartition,
        Map<String, String> configs) {

    /** The full topic name for a run prefix ({@code ""} for none). */
    public String name(String prefix) {
        return prefix == null || prefix.isEmpty() ? baseName : prefix + baseName;
    }
}

package dev.diffustream.schemas;

import dev.diffustream.schemas.serde.AvroSerde;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * A topic bound to a run prefix and serdes: what clients and topologies use. Obtain from {@link
 * Topics}; never build topic names from string literals elsewhere (STYLE rule 3).
 *
 * @param def static definition
 * @param name full name (prefix applied)
 * @param keySerde serde of the string key
 * @param valueSerde Avro serde of the value on the Confluent wire format
 * @param <V> value type
 */
public record Topic<V extends SpecificRecord>(
        TopicDef<V> def, String name, Serde<String> keySerde, AvroSerde<V> valueSerde) {

    @Override
    public String toString() {
        return name;
    }
}

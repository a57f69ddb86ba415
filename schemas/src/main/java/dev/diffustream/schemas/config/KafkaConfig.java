package dev.diffustream.schemas.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;

/** How services reach Kafka and the schema registry (recipe section {@code kafka}). */
public record KafkaConfig(
        @JsonPropertyDescription("Kafka bootstrap servers, host:port[,host:port...].")
                String bootstrap,
        @JsonPropertyDescription("Schema registry base URL (Confluent REST API).") String registry,
        @JsonPropertyDescription(
                        "Schema registry basic-auth credentials as user:password; empty for none.")
                String registryAuth,
        @JsonPropertyDescription(
                        "Prefix prepended to every topic name so several runs can share a cluster.")
                String topicPrefix,
        @JsonPropertyDescription(
                        "Partitions of the tasks, completions, executions, advantages, metrics and"
                                + " dead-letters topics (completions/executions/advantages must"
                                + " match: co-partitioning). The feeder deals tasks round robin over"
                                + " the partitions, so make it a multiple of the actor count to keep"
                                + " every actor equally busy.")
                int partitions,
        @JsonPropertyDescription("Replication factor of created topics (1 for a single broker).")
                short replicationFactor,
        @JsonPropertyDescription(
                        "Extra client properties applied to every producer, consumer, admin and"
                                + " Streams client (e.g. security.protocol, sasl.*, ssl.*).")
                Map<String, String> client) {

    public KafkaConfig {
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new IllegalArgumentException("kafka.bootstrap must not be empty");
        }
        if (registry == null || registry.isBlank()) {
            throw new IllegalArgumentException("kafka.registry must not be empty");
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("kafka.partitions must be >= 1, got " + partitions);
        }
        if (replicationFactor < 1) {
            throw new IllegalArgumentException(
                    "kafka.replicationFactor must be >= 1, got " + replicationFactor);
        }
        registryAuth = registryAuth == null ? "" : registryAuth;
        topicPrefix = topicPrefix == null ? "" : topicPrefix;
        client = client == null ? Map.of() : Map.copyOf(client);
    }

    public static KafkaConfig defaults() {
        return new KafkaConfig(
                "localhost:9092", "http://localhost:8081", "", "", 4, (short) 1, Map.of());
    }

    /** A copy pointing at another cluster and registry. */
    public KafkaConfig withAddresses(String bootstrap, String registry) {
        return copy(bootstrap, registry, client);
    }

    /** A copy with other client overrides ({@code kafka.client}). */
    public KafkaConfig withClient(Map<String, String> overrides) {
        return copy(bootstrap, registry, overrides);
    }

    private KafkaConfig copy(String bootstrap, String registry, Map<String, String> client) {
        return new KafkaConfig(
                bootstrap,
                registry,
                registryAuth,
                topicPrefix,
                partitions,
                replicationFactor,
                client);
    }
}

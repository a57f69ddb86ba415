package dev.diffustream.streams;

import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.DeadLetter;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.schemas.registry.InMemorySchemaRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;

/** A TopologyTestDriver around {@link AdvantageTopology} with in-memory registry serdes. */
final class Harness implements AutoCloseable {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    final AdvantageConfig cfg;
    final Topics topics;
    final TopologyTestDriver driver;
    final TestInputTopic<String, Completion> completions;
    final TestInputTopic<String, Execution> executions;
    final TestInputTopic<byte[], byte[]> rawCompletions;
    final TestInputTopic<byte[], byte[]> rawExecutions;
    final TestOutputTopic<String, AdvantageGroup> advantages;
    final TestOutputTopic<String, Metric> metrics;
    final TestOutputTopic<String, DeadLetter> deadLetters;

    Harness(AdvantageConfig cfg) {
        this(cfg, RewardWeights.defaults());
    }

    Harness(AdvantageConfig cfg, RewardWeights weights) {
        this(cfg, weights, Map.of());
    }

    /**
     * @param overrides Streams properties replacing the service's (see the poison-record test)
     */
    Harness(AdvantageConfig cfg, RewardWeights weights, Map<String, Object> overrides) {
        this.cfg = cfg;
        this.topics = new Topics("test.", new InMemorySchemaRegistry());
        Properties props = AdvantageService.streamsProperties(cfg, KafkaConfig.defaults(), topics);
        props.putAll(overrides);

        this.driver =
                new TopologyTestDriver(
                        AdvantageTopology.buildTopology(cfg, weights, topics), props, T0);
        this.completions =
                driver.createInputTopic(
                        topics.completions().name(),
                        topics.completions().keySerde().serializer(),
                        topics.completions().valueSerde().serializer());
        this.executions =
                driver.createInputTopic(
                        topics.executions().name(),
                        topics.executions().keySerde().serializer(),
                        topics.executions().valueSerde().serializer());
        this.rawCompletions =
                driver.createInputTopic(
                        topics.completions().name(),
                        new ByteArraySerializer(),
                        new ByteArraySerializer());
        this.rawExecutions =
                driver.createInputTopic(
                        topics.executions().name(),
                        new ByteArraySerializer(),
                        new ByteArraySerializer());
        this.advantages =
                driver.createOutputTopic(
                        topics.advantages().name(),
                        topics.advantages().keySerde().deserializer(),
                        topics.advantages().valueSerde().deserializer());
        this.metrics =
                driver.createOutputTopic(
                        topics.metrics().name(),
                        topics.metrics().keySerde().deserializer(),
                        topics.metrics().valueSerde().deserializer());
        this.deadLetters =
                driver.createOutputTopic(
                        topics.deadLetters().name(),
                        topics.deadLetters().keySerde().deserializer(),
                        topics.deadLetters().valueSerde().deserializer());
    }

    void completion(Completion c) {
        completions.pipeInput(c.getGroupId(), c);
    }

    void execution(Execution e) {
        executions.pipeInput(e.getGroupId(), e);
    }

    void advance(Duration d) {
        driver.advanceWallClockTime(d);
    }

    KeyValueStore<String, GroupState> groups() {
        return driver.getKeyValueStore(AdvantageTopology.GROUPS_STORE);
    }

    KeyValueStore<String, AdvantageMember> members() {
        return driver.getKeyValueStore(AdvantageTopology.MEMBERS_STORE);
    }

    KeyValueStore<String, String> timers() {
        return driver.getKeyValueStore(AdvantageTopology.TIMERS_STORE);
    }

    List<AdvantageGroup> emitted() {
        return advantages.readValuesToList();
    }

    /** Every metric published so far. */
    List<Metric> publishedMetrics() {
        return metrics.readValuesToList();
    }

    @Override
    public void close() {
        driver.close();
    }
}

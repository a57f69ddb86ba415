package dev.diffustream.sandbox.service;

import dev.diffustream.sandbox.ExecutionRequest;
import dev.diffustream.sandbox.ExecutionResult;
import dev.diffustream.sandbox.SandboxEngine;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.kafka.DeadLetters;
import dev.diffustream.schemas.kafka.MetricSink;
import dev.diffustream.schemas.kafka.TransactionalLoop;
import dev.diffustream.schemas.serde.RecordDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox service: consumes {@code completions} (read_committed) in a consumer group, executes
 * each completion with the {@link SandboxEngine} on a worker pool sized to the engine's slots, and
 * produces one {@code Execution} per completion — keyed by group id, identified by completion id —
 * in the same transaction that commits the consumed offsets. A crash or a rebalance before the
 * commit re-executes the batch and the aborted results are never visible; a restart never counts a
 * completion twice. Undecodable records go to {@code dead-letters} inside the transaction.
 * Infrastructure faults come back from the engine as {@code SANDBOX_ERROR} after its retries and
 * are published as such, never as a reward of 0.
 */
public final class SandboxService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SandboxService.class);

    /** Live counters. */
    public record Status(long executions, long faults, double executionsPerSecond) {}

    private final KafkaConfig kafka;
    private final String runId;
    private final Topics topics;
    private final SandboxEngine engine;
    private final String instanceId;
    private final ExecutorService pool;
    private final AtomicLong executions = new AtomicLong();
    private final AtomicLong faults = new AtomicLong();
    private final Map<Outcome, AtomicLong> outcomes = new EnumMap<>(Outcome.class);
    private final long startedNanos = System.nanoTime();
    private volatile TransactionalLoop loop;
    private volatile boolean closed;

    /**
     * @param runId run whose completions to execute (names the consumer group)
     * @param instanceId unique per process (transactional id), stable across its restarts
     */
    public SandboxService(
            KafkaConfig kafka,
            String runId,
            Topics topics,
            SandboxEngine engine,
            String instanceId) {
        this.kafka = kafka;
        this.runId = runId;
        this.topics = topics;
        this.engine = engine;
        this.instanceId = instanceId;
        this.pool =
                Executors.newFixedThreadPool(
                        engine.workers(),
                        r -> {
                            Thread t = new Thread(r, instanceId + "-worker");
                            t.setDaemon(true);
                            return t;
                        });
        for (Outcome o : Outcome.values()) {
            outcomes.put(o, new AtomicLong());
        }
    }

    /** The consumer group of a run's sandboxes. */
    public static String consumerGroup(String runId) {
        return "sandboxes-" + runId;
    }

    /** Runs until {@link #close()} or a fatal Kafka error. */
    public void run() {
        Topic<Completion> completions = topics.completions();
        Topic<Execution> out = topics.executions();
        RecordDecoder<Completion> decoder = new RecordDecoder<>(completions);
        Map<String, Object> consumer = Clients.consumer(kafka, instanceId, consumerGroup(runId));
        // A batch is executed in parallel by the workers; a few per worker keeps them busy
        // without holding a transaction open for long.
        consumer.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(4, 2 * engine.workers()));
        Map<String, Object> producer =
                Clients.transactionalProducer(
                        kafka, instanceId, topics.prefix() + runId + "-" + instanceId);
        try (KafkaProducer<byte[], byte[]> metricProducer =
                new KafkaProducer<>(Clients.producer(kafka, instanceId + "-metrics"))) {
            MetricSink metrics =
                    new MetricSink(metricProducer, topics.metrics(), runId, instanceId);
            TransactionalLoop.Settings settings =
                    new TransactionalLoop.Settings(
                            consumer,
                            producer,
                            List.of(completions.name()),
                            Duration.ofMillis(500),
                            Duration.ofSeconds(10),
                            instanceId);
            loop =
                    new TransactionalLoop(
                            settings,
                            (records, o) -> handle(records, o, decoder, out, metrics),
                            new DeadLetters(topics.deadLetters(), instanceId));
            if (!closed) {
                loop.run();
            }
        }
    }

    private void handle(
            ConsumerRecords<byte[], byte[]> records,
            TransactionalLoop.Output output,
            RecordDecoder<Completion> decoder,
            Topic<Execution> out,
            MetricSink metrics)
            throws Exception {
        List<Completion> batch = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            try {
                Completion c = decoder.value(r);
                if (seen.add(c.getCompletionId())) {
                    batch.add(c);
                }
            } catch (RuntimeException e) {
                output.deadLetter(r, e);
            }
        }
        List<Future<ExecutionResult>> futures = new ArrayList<>(batch.size());
        for (Completion c : batch) {
            futures.add(
                    pool.submit(
                            () ->
                                    engine.execute(
                                            new ExecutionRequest(
                                                    c.getText(), c.getTests(), c.getSetupCode()))));
        }
        for (int i = 0; i < batch.size(); i++) {
            Completion c = batch.get(i);
            ExecutionResult result = futures.get(i).get();
            Execution e =
                    result.toAvro(
                            c.getRunId(),
                            c.getGroupId(),
                            c.getCompletionId(),
                            c.getTaskId(),
                            c.getGroupSize(),
                            Instant.now());
            output.send(
                    new ProducerRecord<>(
                            out.name(),
                            c.getGroupId().getBytes(StandardCharsets.UTF_8),
                            out.valueSerde().serialize(out.name(), e)));
            executions.incrementAndGet();
            outcomes.get(result.outcome()).incrementAndGet();
            if (result.outcome() == Outcome.SANDBOX_ERROR) {
                faults.incrementAndGet();
                LOG.warn(
                        "{}: sandbox fault on {}: {}",
                        instanceId,
                        c.getCompletionId(),
                        result.error());
            }
        }
        Status s = status();
        metrics.emit("sandbox/executions", s.executions(), null, null);
        metrics.emit("sandbox/faults", s.faults(), null, null);
        metrics.emit("throughput/sandbox_executions_per_s", s.executionsPerSecond(), null, null);
        for (Map.Entry<Outcome, AtomicLong> o : outcomes.entrySet()) {
            if (o.getValue().get() > 0) {
                metrics.emit(
                        "sandbox/outcome/" + o.getKey().name().toLowerCase(Locale.ROOT),
                        o.getValue().get(),
                        null,
                        null);
            }
        }
    }

    /** Counters for progress displays and health checks. */
    public Status status() {
        double seconds = Math.max(1e-9, (System.nanoTime() - startedNanos) / 1e9);
        return new Status(executions.get(), faults.get(), executions.get() / seconds);
    }

    /** Outcome counts so far. */
    public Map<Outcome, Long> outcomeCounts() {
        Map<Outcome, Long> m = new EnumMap<>(Outcome.class);
        outcomes.forEach((k, v) -> m.put(k, v.get()));
        return m;
    }

    /** Stops after the current transaction (nothing in flight is lost) and stops the workers. */
    @Override
    public void close() {
        closed = true;
        TransactionalLoop l = loop;
        if (l != null) {
            l.close();
        }
        pool.shutdownNow();
    }
}

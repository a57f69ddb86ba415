package dev.diffustream.streams;

import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.SchemaRegistry;
import dev.diffustream.schemas.telemetry.Telemetry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The advantage service: runs {@link AdvantageTopology} in Kafka Streams with exactly_once_v2 (the
 * {@code diffustream streams} command wires it; {@link #run()} is what it calls).
 *
 * <p>Lifecycle: {@link #start()} starts the client; {@link #run()} starts it if needed and blocks
 * until {@link #close()} (e.g. from a shutdown hook) or until the client dies; {@link #close()}
 * shuts down cleanly (commits, writes the stores' checkpoints), so a restart with the same {@code
 * stateDir} reuses local state; without it (a crash) the stores are restored from their changelogs.
 * Either way every open group resumes where the last commit left it.
 *
 * <p>Uncaught exceptions: a stream thread only dies on an error Kafka Streams cannot handle itself
 * (a bug here, a record that cannot be encoded, an unreachable schema registry). The thread is
 * replaced, resuming from the last commit, up to {@code maxThreadReplacements} times over the
 * process lifetime (transient causes recover); after that the client shuts down and {@link #run()}
 * returns 1, so a supervisor sees a failed process instead of a crash loop.
 */
public final class AdvantageService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdvantageService.class);

    /** Client settings whose values must not reach the log (SASL/TLS credentials). */
    private static final Pattern SECRET =
            Pattern.compile("(?i).*(password|secret|jaas|token|credentials).*");

    private final Telemetry.Binding streamsMetrics;
    private final AdvantageConfig cfg;
    private final Properties props;
    private final KafkaStreams streams;
    private final SchemaRegistry ownedRegistry;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final ThreadReplacementPolicy replacementPolicy;
    private final AtomicLong restored = new AtomicLong();
    private volatile boolean failed;
    private volatile boolean started;

    /**
     * @param cfg topology and client settings
     * @param weights reward weights (recipe section {@code rewards})
     * @param kafka bootstrap, topic prefix, client overrides
     * @param topics the run's topics and serdes (their registry is not closed by this service)
     */
    public AdvantageService(
            AdvantageConfig cfg, RewardWeights weights, KafkaConfig kafka, Topics topics) {
        this(cfg, weights, kafka, topics, null);
    }

    private AdvantageService(
            AdvantageConfig cfg,
            RewardWeights weights,
            KafkaConfig kafka,
            Topics topics,
            SchemaRegistry ownedRegistry) {
        this.cfg = cfg;
        this.ownedRegistry = ownedRegistry;
        this.replacementPolicy = new ThreadReplacementPolicy(cfg.maxThreadReplacements());
        this.props = streamsProperties(cfg, kafka, topics);
        this.streams =
                new KafkaStreams(AdvantageTopology.buildTopology(cfg, weights, topics), props);
        this.streamsMetrics = Telemetry.global().bind(new KafkaStreamsMetrics(streams));
        streams.setUncaughtExceptionHandler(this::onUncaught);
        streams.setGlobalStateRestoreListener(new RestoreLog());
        streams.setStateListener(
                (now, before) -> {
                    LOG.info("advantage service: {} -> {}", before, now);
                    if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                        failed |= now == KafkaStreams.State.ERROR;
                        stopped.countDown();
                    }
                });
    }

    /** A service for a recipe's Kafka settings, with its own registry client (closed with it). */
    public static AdvantageService forKafka(
            AdvantageConfig cfg, RewardWeights weights, KafkaConfig kafka) {
        SchemaRegistry registry = Clients.registry(kafka);
        return new AdvantageService(
                cfg, weights, kafka, new Topics(kafka.topicPrefix(), registry), registry);
    }

    /**
     * The Kafka Streams properties of the service. Each non-default setting says why (STYLE rule
     * 6); {@code kafka.client} overrides (security) and then {@code cfg.streams()} are applied
     * last.
     */
    public static Properties streamsProperties(
            AdvantageConfig cfg, KafkaConfig kafka, Topics topics) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, cfg.applicationId());
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        // Offsets, store changelogs and outputs commit atomically: each group is emitted once.
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        // Store and changelog names are deployed state: refuse any generated name.
        p.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, true);
        // Under EOS outputs become visible at commit: the interval bounds the added latency.
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, cfg.commitIntervalMs());
        // Coalesces the rewrites of a group's small state between commits.
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cfg.cacheMaxBytes());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, cfg.streamThreads());
        if (!cfg.stateDir().isEmpty()) {
            // Local stores survive a clean restart here (restored from changelogs otherwise).
            p.put(StreamsConfig.STATE_DIR_CONFIG, cfg.stateDir());
        }
        // Changelog topics get the cluster's replication (1 on a single local broker).
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) kafka.replicationFactor());
        // Either input may arrive first, so never idle waiting for the other partition.
        p.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
        // Undecodable records go to dead-letters (in the same transaction) instead of failing.
        p.put(
                StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
                DeadLetterHandler.class.getName());
        p.put(DeadLetterHandler.TOPIC_CONFIG, topics.deadLetters());
        p.put(DeadLetterHandler.SERVICE_CONFIG, cfg.applicationId());
        // No global store here: opting into the 5.0 default only silences Kafka 4.4's warning (the
        // copy logged by new Topology()'s internal default config remains).
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        // Members and advantages carry token ids and log-probs: compress them (cheap with lz4).
        p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
        p.putAll(kafka.client());
        p.putAll(cfg.streams());
        return p;
    }

    /** Starts the Kafka Streams client (once). */
    public synchronized void start() {
        if (started) {
            return;
        }
        started = true;
        Map<String, Object> shown = new TreeMap<>();
        props.forEach(
                (k, v) ->
                        shown.put(
                                k.toString(),
                                SECRET.matcher(k.toString()).matches() ? "[hidden]" : v));
        LOG.info("advantage service starting: {} ; config {}", shown, cfg);
        streams.start();
    }

    /** The client's state. */
    public KafkaStreams.State state() {
        return streams.state();
    }

    /**
     * Store records restored from changelogs since start: 0 after a clean restart on the same state
     * dir (local stores reused), the open groups' state after a crash or on a new machine.
     */
    public long restoredRecords() {
        return restored.get();
    }

    /** Waits until the client is RUNNING; false on timeout or if it stopped. */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            KafkaStreams.State s = streams.state();
            if (s == KafkaStreams.State.RUNNING) {
                return true;
            }
            if (stopped.getCount() == 0) {
                return false;
            }
            Thread.sleep(20);
        }
        return false;
    }

    /**
     * Starts the service if needed and blocks until it stops.
     *
     * @return 0 after a clean {@link #close()}, 1 if the client died (ERROR)
     */
    public int run() throws InterruptedException {
        start();
        stopped.await();
        return failed ? 1 : 0;
    }

    /** Waits up to {@code timeout} for the service to stop; true if it did. */
    public boolean awaitStop(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Clean shutdown: commits, writes checkpoints, closes the stores (waits up to 60 s). */
    @Override
    public void close() {
        close(Duration.ofSeconds(60));
    }

    public void close(Duration timeout) {
        boolean done = streams.close(timeout);
        streamsMetrics.close();
        if (!done) {
            LOG.warn("advantage service did not stop within {}", timeout);
        }
        if (ownedRegistry != null) {
            try {
                ownedRegistry.close();
            } catch (Exception e) {
                LOG.debug("registry client close failed: {}", e.toString());
            }
        }
        stopped.countDown();
    }

    private StreamThreadExceptionResponse onUncaught(Throwable e) {
        StreamThreadExceptionResponse response = replacementPolicy.respond(e);
        if (response == StreamThreadExceptionResponse.SHUTDOWN_CLIENT) {
            failed = true;
        }
        return response;
    }

    /**
     * Replaces a dead stream thread (resuming from the last commit) up to a number of times over
     * the process lifetime, then shuts the client down.
     */
    static final class ThreadReplacementPolicy {
        private final int maxReplacements;
        private final AtomicInteger replaced = new AtomicInteger();

        ThreadReplacementPolicy(int maxReplacements) {
            this.maxReplacements = maxReplacements;
        }

        StreamThreadExceptionResponse respond(Throwable e) {
            int n = replaced.incrementAndGet();
            if (n <= maxReplacements) {
                LOG.error(
                        "stream thread died ({} of {} replacements); replacing it",
                        n,
                        maxReplacements,
                        e);
                return StreamThreadExceptionResponse.REPLACE_THREAD;
            }
            LOG.error("stream thread died again; shutting the advantage service down", e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
    }

    /** Logs and counts state restoration (how long a restart takes to resume). */
    private final class RestoreLog implements StateRestoreListener {
        @Override
        public void onRestoreStart(
                TopicPartition partition, String store, long startOffset, long endOffset) {
            LOG.info(
                    "restoring {} from {} offsets {}..{}",
                    store,
                    partition,
                    startOffset,
                    endOffset);
        }

        @Override
        public void onBatchRestored(
                TopicPartition partition, String store, long batchEndOffset, long numRestored) {
            restored.addAndGet(numRestored);
        }

        @Override
        public void onRestoreEnd(TopicPartition partition, String store, long totalRestored) {
            LOG.info("restored {} records of {} from {}", totalRestored, store, partition);
        }
    }
}

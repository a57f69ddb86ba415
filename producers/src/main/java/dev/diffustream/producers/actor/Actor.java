package dev.diffustream.producers.actor;

import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.arness.ArNess;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.config.PolicyConfig;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.store.CheckpointStore;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.SamplerSettings;
import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RunConfig;
import dev.diffustream.schemas.kafka.CheckpointFollower;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.kafka.DeadLetters;
import dev.diffustream.schemas.kafka.MetricSink;
import dev.diffustream.schemas.kafka.TransactionalLoop;
import dev.diffustream.schemas.serde.RecordDecoder;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An actor: consumes {@code tasks} in a consumer group and, for each task, samples the G
 * completions of a GRPO group with the current policy, scores them under that behaviour policy for
 * their I mask seeds, and publishes the group's Completions in one transaction together with the
 * consumed task offset (exactly once: a crash before commit re-samples the task, identically).
 *
 * <p>Between tasks it follows {@code checkpoints} and hot-swaps to the newest weights (sha256
 * verified, retried on a partial copy). While its policy is more than {@link
 * ActorConfig#maxPolicyLag()} versions behind the newest checkpoint it takes no task until it has
 * loaded a newer one. In {@link ActorConfig#sync()} mode it reads every committed checkpoint before
 * each task, so it always samples with the newest policy (the release's on-policy loop when the
 * feeder releases one batch at a time).
 */
public final class Actor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Actor.class);

    /** Live counters for progress displays. */
    public record Status(long groups, long tokens, long policyVersion, double lastGroupSeconds) {}

    private final KafkaConfig kafka;
    private final RunConfig run;
    private final ActorConfig cfg;
    private final PolicyConfig policyCfg;
    private final GrpoConfig grpo;
    private final SamplerConfig samplerCfg;
    private final Topics topics;
    private final CheckpointStore store;
    private final String actorId;
    private final GroupSampler sampler;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong groups = new AtomicLong();
    private final AtomicLong tokens = new AtomicLong();
    private volatile long version = -1;
    private volatile double lastSeconds;
    private volatile TransactionalLoop loop;
    private LoadedPolicy policy;
    private CheckpointFollower follower;
    private MetricSink metrics;

    public Actor(
            KafkaConfig kafka,
            RunConfig run,
            ActorConfig cfg,
            PolicyConfig policyCfg,
            GrpoConfig grpo,
            SamplerConfig samplerCfg,
            Topics topics,
            CheckpointStore store,
            String actorId) {
        this.kafka = kafka;
        this.run = run;
        this.cfg = cfg;
        this.policyCfg = policyCfg;
        this.grpo = grpo;
        this.samplerCfg = samplerCfg;
        this.topics = topics;
        this.store = store;
        this.actorId = actorId;
        this.sampler = new GroupSampler(grpo, samplerCfg, policyCfg.systemPrompt());
    }

    /** The Kafka group id of a run's actors. */
    public static String consumerGroup(String runId) {
        return "actors-" + runId;
    }

    /** The group id of a task round: unique within a run, sortable by feed order. */
    public static String groupId(String runId, long sequence) {
        return String.format(Locale.ROOT, "%s/%07d", runId, sequence);
    }

    /**
     * The settings of an actor's {@code tasks} consumer.
     *
     * <ul>
     *   <li>One record per poll: each task is its own transaction, and sampling a group takes
     *       seconds, so an actor never holds tasks another actor could take.
     *   <li>A poll interval long enough for one group plus a checkpoint load.
     *   <li>The round-robin assignor, unless the recipe's {@code kafka.client} names one: with A
     *       actors it gives the actor of rank i the partitions i, i + A, i + 2A, …. The feeder puts
     *       task sequence s on partition s mod P ({@code Feeder.partitionOf}), so when A divides P
     *       task s goes to actor s mod A, and every A consecutive tasks reach A different actors.
     *       Kafka's default range assignor gives each actor a contiguous block of partitions
     *       instead; with 8 partitions and 2 actors, a synchronous round of 4 tasks would then go
     *       to one actor.
     * </ul>
     */
    static Map<String, Object> consumerSettings(
            KafkaConfig kafka, String actorId, String runId, long maxPollIntervalMs) {
        Map<String, Object> consumer = Clients.consumer(kafka, actorId, consumerGroup(runId));
        consumer.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        Clients.setMaxPollInterval(consumer, kafka, maxPollIntervalMs);
        if (!kafka.client().containsKey(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG)) {
            consumer.put(
                    ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                    RoundRobinAssignor.class.getName());
        }
        return consumer;
    }

    /** Runs until {@link #close()} or a fatal error. */
    public void run() throws InterruptedException {
        Topic<Task> tasks = topics.tasks();
        Topic<Completion> completions = topics.completions();
        RecordDecoder<Task> decoder = new RecordDecoder<>(tasks);
        try (KafkaProducer<byte[], byte[]> metricProducer =
                        new KafkaProducer<>(Clients.producer(kafka, actorId + "-metrics"));
                CheckpointFollower f =
                        new CheckpointFollower(
                                kafka, topics.checkpoints(), run.id(), actorId + "-checkpoints")) {
            this.follower = f;
            this.metrics = new MetricSink(metricProducer, topics.metrics(), run.id(), actorId);
            awaitFirstPolicy();
            Map<String, Object> consumer =
                    consumerSettings(kafka, actorId, run.id(), cfg.maxPollIntervalMs());
            Map<String, Object> producer =
                    Clients.transactionalProducer(
                            kafka, actorId, topics.prefix() + run.id() + "-" + actorId);
            TransactionalLoop.Settings settings =
                    new TransactionalLoop.Settings(
                            consumer,
                            producer,
                            List.of(tasks.name()),
                            Duration.ofMillis(500),
                            Duration.ofSeconds(10),
                            actorId);
            DeadLetters dlq = new DeadLetters(topics.deadLetters(), actorId);
            loop =
                    new TransactionalLoop(
                            settings,
                            (records, out) -> handle(records, out, decoder, completions),
                            dlq);
            loop.onIdle(this::refreshPolicyQuietly);
            if (running.get()) {
                loop.run();
            }
        } finally {
            if (policy != null) {
                policy.close();
                policy = null;
            }
        }
    }

    private void handle(
            ConsumerRecords<byte[], byte[]> records,
            TransactionalLoop.Output out,
            RecordDecoder<Task> decoder,
            Topic<Completion> completions)
            throws Exception {
        for (ConsumerRecord<byte[], byte[]> r : records) {
            Task task;
            try {
                task = decoder.value(r);
            } catch (RuntimeException e) {
                out.deadLetter(r, e);
                continue;
            }
            ensurePolicy();
            long t0 = System.nanoTime();
            GroupSampler.SampledGroup g = sampler.sample(policy, task.getPrompt(), task.getSeed());
            double seconds = (System.nanoTime() - t0) / 1e9;
            String groupId = groupId(task.getRunId(), task.getSequence());
            byte[] key = groupId.getBytes(StandardCharsets.UTF_8);
            SamplerSettings settings = settings(g.samplingSeed());
            Instant now = Instant.now();
            int size = g.samples().rows();
            for (int m = 0; m < size; m++) {
                Completion c = completion(task, groupId, m, size, g, settings, now);
                out.send(
                        new ProducerRecord<>(
                                completions.name(),
                                key,
                                completions.valueSerde().serialize(completions.name(), c)));
            }
            long newTokens = (long) size * g.samples().completionLength();
            groups.incrementAndGet();
            tokens.addAndGet(newTokens);
            lastSeconds = seconds;
            metrics.emit("actor/group_seconds", seconds, null, version);
            metrics.emit("throughput/actor_tokens_per_s", newTokens / seconds, null, version);
            metrics.emit(
                    "arness/local_1",
                    ArNess.meanLocal(g.samples().decodeOrder(), 1, ArNess.EarlySteps.ZERO),
                    null,
                    version);
            metrics.emit(
                    "arness/global_1",
                    ArNess.meanGlobal(g.samples().decodeOrder(), 1),
                    null,
                    version);
        }
    }

    private Completion completion(
            Task task,
            String groupId,
            int m,
            int size,
            GroupSampler.SampledGroup g,
            SamplerSettings settings,
            Instant now) {
        List<List<Float>> logps = new ArrayList<>();
        for (float[] row : g.behaviourLogProbs()[m]) {
            List<Float> l = new ArrayList<>(row.length);
            for (float v : row) {
                l.add(v);
            }
            logps.add(l);
        }
        List<Long> seeds = new ArrayList<>();
        for (long s : g.maskSeeds()[m]) {
            seeds.add(s);
        }
        return Completion.newBuilder()
                .setRunId(task.getRunId())
                .setGroupId(groupId)
                .setCompletionId(groupId + "/" + m)
                .setTaskId(task.getTaskId())
                .setMemberIndex(m)
                .setGroupSize(size)
                .setSplit(task.getSplit())
                .setTests(task.getTests())
                .setEntryPoint(task.getEntryPoint())
                .setSetupCode(task.getSetupCode())
                .setPromptTokenIds(ints(g.prompt()))
                .setTokenIds(ints(g.samples().completions()[m]))
                .setText(g.texts()[m])
                .setPolicyVersion(policy.version())
                .setPolicySha256(policy.sha256())
                .setSampler(settings)
                .setMaskSeeds(seeds)
                .setBehaviourLogProbs(logps)
                .setDecodeOrder(ints(g.samples().decodeOrder()[m]))
                .setActorId(actorId)
                .setCreatedAt(now)
                .build();
    }

    private SamplerSettings settings(long seed) {
        return SamplerSettings.newBuilder()
                .setAlg(samplerCfg.alg().name().toLowerCase(Locale.ROOT))
                .setTemperature(samplerCfg.temperature())
                .setTopP(samplerCfg.topP())
                .setTopK(samplerCfg.topK())
                .setAlgTemp(samplerCfg.algTemp())
                .setSteps(samplerCfg.steps())
                .setMaxNewTokens(samplerCfg.maxNewTokens())
                .setEps(samplerCfg.eps())
                .setSeed(seed)
                .build();
    }

    private static List<Integer> ints(int[] a) {
        List<Integer> l = new ArrayList<>(a.length);
        for (int v : a) {
            l.add(v);
        }
        return l;
    }

    /** Blocks until the run's first checkpoint is published and loaded. */
    private void awaitFirstPolicy() throws InterruptedException {
        long lastLog = 0;
        while (running.get()) {
            Optional<Checkpoint> c = follower.poll(Duration.ofMillis(500));
            if (c.isPresent()) {
                load(c.get());
                return;
            }
            if (System.currentTimeMillis() - lastLog > 10_000) {
                LOG.info(
                        "{}: waiting for the run's first checkpoint (is the learner up?)", actorId);
                lastLog = System.currentTimeMillis();
            }
        }
    }

    /** Loads newer weights if any; blocks while the staleness bound is exceeded. */
    private void ensurePolicy() throws InterruptedException {
        Optional<Checkpoint> newest =
                cfg.sync()
                        ? follower.catchUp(Duration.ofSeconds(30))
                        : follower.poll(Duration.ZERO);
        while (newest.isPresent() && newest.get().getVersion() > version && running.get()) {
            try {
                load(newest.get());
                return;
            } catch (IllegalStateException e) {
                if (newest.get().getVersion() - version <= cfg.maxPolicyLag()) {
                    LOG.warn("{}: keeping version {}: {}", actorId, version, e.getMessage());
                    return;
                }
                LOG.warn(
                        "{}: policy {} versions behind and cannot load version {}; pausing: {}",
                        actorId,
                        newest.get().getVersion() - version,
                        newest.get().getVersion(),
                        e.getMessage());
                Thread.sleep(cfg.loadBackoffMs());
                newest = follower.poll(Duration.ofMillis(100));
            }
        }
    }

    private void refreshPolicyQuietly() {
        try {
            Optional<Checkpoint> newest = follower.poll(Duration.ZERO);
            if (newest.isPresent() && newest.get().getVersion() > version) {
                load(newest.get());
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: checkpoint refresh failed: {}", actorId, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Loads a checkpoint, retrying a missing or mismatching copy.
     *
     * @throws IllegalStateException if every attempt failed
     */
    private void load(Checkpoint c) throws InterruptedException {
        IOException last = null;
        for (int attempt = 1; attempt <= cfg.loadAttempts(); attempt++) {
            try {
                var dir = store.fetch(URI.create(c.getUri()));
                LoadedPolicy next =
                        LoadedPolicy.load(
                                dir, policyCfg.device(), false, c.getVersion(), c.getSha256());
                LoadedPolicy previous = policy;
                policy = next;
                version = c.getVersion();
                if (previous != null) {
                    previous.close();
                }
                LOG.info("{}: loaded policy version {} ({})", actorId, version, c.getUri());
                if (metrics != null) {
                    metrics.emit("actor/policy_version", version, c.getStep(), version);
                }
                return;
            } catch (IOException e) {
                last = e;
                LOG.warn(
                        "{}: loading version {} failed (attempt {}/{}): {}",
                        actorId,
                        c.getVersion(),
                        attempt,
                        cfg.loadAttempts(),
                        e.getMessage());
                Thread.sleep(cfg.loadBackoffMs() * attempt);
            }
        }
        throw new IllegalStateException(
                "cannot load checkpoint version " + c.getVersion() + " from " + c.getUri(), last);
    }

    /** Counters for progress displays. */
    public Status status() {
        return new Status(groups.get(), tokens.get(), version, lastSeconds);
    }

    @Override
    public void close() {
        running.set(false);
        TransactionalLoop l = loop;
        if (l != null) {
            l.close();
        }
    }
}

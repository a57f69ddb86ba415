package dev.diffustream.learner;

import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.checkpoint.WeightsDigest;
import dev.diffustream.policy.config.GrpoConfig;
import dev.diffustream.policy.config.PolicyConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.store.CheckpointStore;
import dev.diffustream.policy.tokenizer.Tokenizer;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.CheckpointKind;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.TrainStep;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RunConfig;
import dev.diffustream.schemas.kafka.CheckpointFollower;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.kafka.DeadLetters;
import dev.diffustream.schemas.kafka.KafkaErrors;
import dev.diffustream.schemas.kafka.MetricSink;
import dev.diffustream.schemas.serde.RecordDecoder;
import dev.diffustream.schemas.telemetry.Telemetry;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The learner: consumes AdvantageGroups (read_committed), forms batches of B trainable groups, runs
 * the Coupled-GRPO update of spec §A ({@link GrpoTrainer}), and publishes a TrainStep per optimizer
 * step and a Checkpoint every {@link LearnerConfig#checkpointEveryBatches()} batches.
 *
 * <p><b>Exactly once.</b> The TrainSteps of the batches since the last checkpoint, the new
 * Checkpoint event and the consumed {@code advantages} offsets are committed in <i>one</i> Kafka
 * transaction, after the checkpoint's files are durably in the store. A crash before the commit
 * aborts all of it: on restart the learner loads the newest committed checkpoint (weights,
 * reference, optimizer, counters) and the consumer group resumes from the offsets committed with
 * it, so every group is trained at most once and none is skipped, and the step log (read committed)
 * says which group went into which step. Offsets only ever cover a prefix of what was polled:
 * groups waiting in the batch buffer are never committed before they are trained.
 *
 * <p>Groups the advantage topology dropped (zero variance, partial) and groups whose every member
 * is too stale are <i>skipped</i>: recorded in the next TrainStep's {@code skippedGroups}, never
 * silently lost.
 */
public final class Learner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Learner.class);

    /**
     * Groups taken into batches (trained or skipped) so far; the feeder paces itself on it. Emitted
     * after each batch (after its checkpoint commit, when one is due) and every few seconds.
     */
    public static final String SETTLED_METRIC = "learner/groups_settled";

    /** Consecutive failed batches (each restored from the last checkpoint) before giving up. */
    private static final int MAX_CONSECUTIVE_FAILURES = 5;

    /** Live counters for progress displays. */
    public record Status(
            long step,
            long version,
            long groupsConsumed,
            double lastLoss,
            double lastKl,
            double lastRewardMean,
            double lastStalenessMean,
            long droppedStaleMembers,
            double lastStepSeconds) {}

    /** A polled advantages record waiting to be accounted for. */
    private record Entry(
            ConsumerRecord<byte[], byte[]> record,
            AdvantageGroup group,
            String skipReason,
            RuntimeException poison) {
        boolean trainable() {
            return group != null && skipReason == null && poison == null;
        }
    }

    private final KafkaConfig kafka;
    private final RunConfig run;
    private final LearnerConfig cfg;
    private final PolicyConfig policyCfg;

    /** PyTorch intra-op threads of each batch ({@link LearnerConfig#trainingThreads}). */
    private final int trainingThreads;

    private final GrpoConfig grpo;
    private final Topics topics;
    private final CheckpointStore store;
    private final String configHash;
    private final String recipeYaml;
    private final Evaluation evaluation;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Deque<Entry> buffer = new ArrayDeque<>();
    private final List<GroupRef> pendingSkipped = new ArrayList<>();

    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<byte[], byte[]> producer;
    private MetricSink metrics;
    private DeadLetters deadLetters;
    private GrpoTrainer trainer;
    private Tokenizer tokenizer;
    private boolean inTransaction;
    private int batchesSinceCheckpoint;
    private final Map<TopicPartition, Long> accounted = new HashMap<>();
    private Checkpoint lastCheckpoint;

    private volatile long version;
    private volatile long stepsDone;
    private volatile long batch;
    private volatile long groupsConsumed;
    private volatile long groupsPolled;
    private volatile long droppedStale;
    private volatile double lastLoss;
    private volatile double lastKl;
    private volatile double lastReward;
    private volatile double lastStaleness;
    private volatile double lastStepSeconds;

    public Learner(
            KafkaConfig kafka,
            RunConfig run,
            LearnerConfig cfg,
            PolicyConfig policyCfg,
            GrpoConfig grpo,
            Topics topics,
            CheckpointStore store,
            String configHash,
            String recipeYaml,
            Evaluation evaluation) {
        this.kafka = kafka;
        this.run = run;
        this.cfg = cfg;
        this.policyCfg = policyCfg;
        this.trainingThreads = cfg.trainingThreads(policyCfg.device().threads());
        this.grpo = grpo;
        this.topics = topics;
        this.store = store;
        this.configHash = configHash;
        this.recipeYaml = recipeYaml;
        this.evaluation = evaluation;
    }

    /** The consumer group of a run's learner. */
    public static String consumerGroup(String runId) {
        return "learner-" + runId;
    }

    /** The name of checkpoint {@code version} in the store. */
    public static String checkpointName(long version) {
        return String.format(Locale.ROOT, "v%06d", version);
    }

    /** Runs until {@link #close()}, {@link LearnerConfig#maxSteps()} or a fatal error. */
    public void run() throws Exception {
        String clientId = "learner-" + run.id();
        Map<String, Object> producerProps =
                Clients.transactionalProducer(
                        kafka, clientId, topics.prefix() + "learner-" + run.id());
        // A checkpoint interval (training plus writing the files) must fit in one transaction.
        producerProps.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, cfg.transactionTimeoutMs());
        Map<String, Object> consumerProps =
                Clients.consumer(kafka, clientId, consumerGroup(run.id()));
        // Batches are formed across polls; a few groups per poll keeps the buffer small.
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 16);
        // A batch (I optimizer steps) plus a checkpoint happen between two polls.
        Clients.setMaxPollInterval(consumerProps, kafka, cfg.transactionTimeoutMs());
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(producerProps);
                KafkaProducer<byte[], byte[]> metricProducer =
                        new KafkaProducer<>(Clients.producer(kafka, clientId + "-metrics"));
                KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps);
                Telemetry.Binding pm = Telemetry.global().bindKafkaClient(p);
                Telemetry.Binding cm = Telemetry.global().bindKafkaClient(c)) {
            this.producer = p;
            this.consumer = c;
            this.metrics = new MetricSink(metricProducer, topics.metrics(), run.id(), "learner");
            this.deadLetters = new DeadLetters(topics.deadLetters(), "learner");
            // Fences a zombie predecessor and aborts its open transaction.
            producer.initTransactions();
            restore();
            Topic<AdvantageGroup> advantages = topics.advantages();
            RecordDecoder<AdvantageGroup> decoder = new RecordDecoder<>(advantages);
            consumer.subscribe(List.of(advantages.name()));
            long lastMetric = 0;
            int failures = 0;
            while (running.get() && !maxStepsReached()) {
                try {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        buffer.add(entry(r, decoder));
                        groupsPolled++;
                    }
                    for (int n = nextBatchLength();
                            n > 0 && running.get() && !maxStepsReached();
                            n = nextBatchLength()) {
                        int length = n;
                        DeviceRuntime.withThreads(
                                trainingThreads,
                                () -> {
                                    trainNextBatch(length);
                                    return null;
                                });
                    }
                    if (System.currentTimeMillis() - lastMetric > 2000) {
                        metrics.emit(SETTLED_METRIC, settled(), trainer.steps(), version);
                        lastMetric = System.currentTimeMillis();
                    }
                    failures = 0;
                } catch (WakeupException e) {
                    break;
                } catch (Exception e) {
                    if (KafkaErrors.classify(e) == KafkaErrors.Action.FATAL
                            || ++failures > MAX_CONSECUTIVE_FAILURES) {
                        throw e;
                    }
                    LOG.warn(
                            "learner: aborting the open transaction and restoring the last"
                                    + " checkpoint (failure {}/{}): {}",
                            failures,
                            MAX_CONSECUTIVE_FAILURES,
                            e.toString(),
                            e);
                    Thread.sleep(Math.min(10_000L, 500L << failures));
                    abortAndRestore();
                }
            }
            if (inTransaction && running.get()) {
                checkpoint(); // maxSteps reached: publish what was trained
            } else if (inTransaction) {
                abortQuietly(); // stopped mid-interval: resume from the last checkpoint
            }
        } finally {
            if (trainer != null) {
                trainer.close();
                trainer.policy().close();
                trainer.reference().close();
                trainer = null;
            }
        }
    }

    private boolean maxStepsReached() {
        return cfg.maxSteps() > 0 && trainer != null && trainer.steps() >= cfg.maxSteps();
    }

    private Entry entry(ConsumerRecord<byte[], byte[]> r, RecordDecoder<AdvantageGroup> decoder) {
        try {
            AdvantageGroup g = decoder.value(r);
            if (!run.id().equals(g.getRunId())) {
                return new Entry(r, g, "other_run", null);
            }
            return new Entry(r, g, g.getDropReason(), null);
        } catch (RuntimeException e) {
            return new Entry(r, null, "undecodable", e);
        }
    }

    /**
     * Leading buffer entries that form the next batch, or -1 while incomplete ({@link BatchRule}).
     */
    private int nextBatchLength() {
        return BatchRule.length(buffer, Entry::trainable, cfg.batchGroups(), cfg.fillBatches());
    }

    /** Groups settled for the feeder's pacing ({@link BatchRule#settledInBuffer}). */
    private long settled() {
        return groupsConsumed
                + BatchRule.settledInBuffer(buffer, Entry::trainable, cfg.fillBatches());
    }

    /**
     * Takes the next B groups from the buffer (with {@link LearnerConfig#fillBatches()}: up to and
     * including the B-th trainable one), trains on those that are trainable (the others are
     * recorded as skipped), and checkpoints when due.
     */
    private void trainNextBatch(int length) throws Exception {
        long started = System.nanoTime();
        List<Entry> taken = new ArrayList<>();
        while (taken.size() < length) {
            taken.add(buffer.removeFirst());
        }
        List<GrpoTrainer.Group> groups = new ArrayList<>();
        List<GroupRef> refs = new ArrayList<>();
        List<GroupRef> skipped = new ArrayList<>(pendingSkipped);
        pendingSkipped.clear();
        double rewardSum = 0, rewardSq = 0, stalenessSum = 0;
        long stalenessMax = 0;
        int members = 0;
        int dropped = 0;
        for (Entry e : taken) {
            ConsumerRecord<byte[], byte[]> r = e.record();
            if (!e.trainable()) {
                String id =
                        e.group() != null
                                ? e.group().getGroupId()
                                : new String(
                                        r.key() == null ? new byte[0] : r.key(),
                                        StandardCharsets.UTF_8);
                skipped.add(ref(id, r, 0, 0));
                continue;
            }
            AdvantageGroup g = e.group();
            List<GrpoTrainer.Member> kept = new ArrayList<>();
            int stale = 0;
            for (AdvantageMember m : g.getMembers()) {
                long s = version - m.getPolicyVersion();
                if (s > cfg.maxStaleness()) {
                    stale++;
                    continue;
                }
                kept.add(member(m));
                rewardSum += m.getReward();
                rewardSq += m.getReward() * m.getReward();
                stalenessSum += Math.max(0, s);
                stalenessMax = Math.max(stalenessMax, Math.max(0, s));
            }
            dropped += stale;
            if (kept.isEmpty()) {
                skipped.add(ref(g.getGroupId(), r, 0, stale));
                continue;
            }
            members += kept.size();
            groups.add(new GrpoTrainer.Group(g.getGroupId(), kept));
            refs.add(ref(g.getGroupId(), r, kept.size(), stale));
        }
        boolean poison = taken.stream().anyMatch(e -> e.poison() != null);
        if (!inTransaction && (poison || !groups.isEmpty())) {
            producer.beginTransaction();
            inTransaction = true;
        }
        for (Entry e : taken) {
            if (e.poison() != null) {
                deadLetters.send(producer, e.record(), e.poison());
            }
        }
        double rewardMean = members == 0 ? 0 : rewardSum / members;
        double rewardStd =
                members < 2
                        ? 0
                        : Math.sqrt(
                                Math.max(0, (rewardSq - members * rewardMean * rewardMean))
                                        / (members - 1));
        double stalenessMean = members == 0 ? 0 : stalenessSum / members;
        List<GrpoTrainer.StepStats> steps =
                groups.isEmpty() ? List.of() : trainer.trainBatch(groups);
        if (steps.isEmpty()) {
            // Nothing to train on: the skipped groups go into the next step's record.
            pendingSkipped.addAll(skipped);
        } else {
            batch++;
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        Topic<TrainStep> stepsTopic = topics.trainSteps();
        byte[] key = run.id().getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < steps.size(); i++) {
            GrpoTrainer.StepStats s = steps.get(i);
            TrainStep event =
                    TrainStep.newBuilder()
                            .setRunId(run.id())
                            .setStep(s.step())
                            .setBatch(batch)
                            .setIteration(s.iteration())
                            .setMaskSeedIndex(s.seedIndex())
                            .setPolicyVersionBefore(version)
                            .setGroups(refs)
                            .setSkippedGroups(i == 0 ? skipped : List.of())
                            .setLoss(s.loss().loss())
                            .setPolicyLoss(s.loss().policyLoss())
                            .setKl(s.loss().kl())
                            .setClipFractionLow(s.loss().clipRatioLow())
                            .setClipFractionHigh(s.loss().clipRatioHigh())
                            .setGradNorm(s.gradNorm())
                            .setLearningRate(s.learningRate())
                            .setTokens(s.loss().tokens())
                            .setStalenessMean(stalenessMean)
                            .setStalenessMax(stalenessMax)
                            .setRewardMean(rewardMean)
                            .setRewardStd(rewardStd)
                            .setDurationMs((long) (seconds * 1000 / steps.size()))
                            .setCheckpointVersion(null)
                            .setCheckpointSha256(null)
                            .setFinishedAt(Instant.now())
                            .build();
            producer.send(
                    new ProducerRecord<>(
                            stepsTopic.name(),
                            key,
                            stepsTopic.valueSerde().serialize(stepsTopic.name(), event)));
            emitStepMetrics(s, rewardMean, rewardStd, stalenessMean, seconds / steps.size());
            lastLoss = s.loss().loss();
            lastKl = s.loss().kl();
        }
        for (Entry e : taken) {
            accounted.merge(
                    new TopicPartition(e.record().topic(), e.record().partition()),
                    e.record().offset() + 1,
                    Math::max);
        }
        groupsConsumed += taken.size();
        droppedStale += dropped;
        stepsDone = trainer.steps();
        if (steps.isEmpty()) {
            metrics.emit(SETTLED_METRIC, settled(), trainer.steps(), version);
            return;
        }
        lastReward = rewardMean;
        lastStaleness = stalenessMean;
        lastStepSeconds = seconds / steps.size();
        batchesSinceCheckpoint++;
        if (batchesSinceCheckpoint >= cfg.checkpointEveryBatches() || maxStepsReached()) {
            checkpoint();
        }
        metrics.emit(SETTLED_METRIC, settled(), trainer.steps(), version);
        maybeEvaluate(steps);
    }

    private void emitStepMetrics(
            GrpoTrainer.StepStats s,
            double rewardMean,
            double rewardStd,
            double stalenessMean,
            double stepSeconds) {
        long step = s.step();
        metrics.emit("losses/total", s.loss().loss(), step, version);
        metrics.emit("losses/policy", s.loss().policyLoss(), step, version);
        metrics.emit("losses/kl", s.loss().kl(), step, version);
        metrics.emit("clip_ratio/low_mean", s.loss().clipRatioLow(), step, version);
        metrics.emit("clip_ratio/high_mean", s.loss().clipRatioHigh(), step, version);
        metrics.emit("clip_ratio/region_mean", s.loss().clipRatioRegion(), step, version);
        metrics.emit("grad_norm", s.gradNorm(), step, version);
        metrics.emit("learning_rate", s.learningRate(), step, version);
        metrics.emit("rewards/mean", rewardMean, step, version);
        metrics.emit("rewards/std", rewardStd, step, version);
        metrics.emit("staleness/mean", stalenessMean, step, version);
        metrics.emit("learner/step_seconds", stepSeconds, step, version);
        metrics.emit("learner/dropped_stale", droppedStale, step, version);
    }

    private void maybeEvaluate(List<GrpoTrainer.StepStats> steps) {
        if (evaluation == null || cfg.evalEverySteps() == 0) {
            return;
        }
        for (GrpoTrainer.StepStats s : steps) {
            if (s.step() % cfg.evalEverySteps() == 0) {
                try {
                    Map<String, Double> values =
                            evaluation.evaluate(trainer.policy(), tokenizer, s.step(), version);
                    values.forEach((name, v) -> metrics.emit(name, v, s.step(), version));
                } catch (Exception e) {
                    LOG.warn("learner: evaluation at step {} failed: {}", s.step(), e.toString());
                }
            }
        }
    }

    private static GroupRef ref(String groupId, ConsumerRecord<?, ?> r, int members, int stale) {
        return GroupRef.newBuilder()
                .setGroupId(groupId)
                .setPartition(r.partition())
                .setOffset(r.offset())
                .setMembers(members)
                .setDroppedStale(stale)
                .build();
    }

    /**
     * The trainer's view of one scored member (token ids, mask seeds, behaviour log-probs,
     * advantage); replay ({@code replay.MemberSelection}) converts with the same code.
     */
    public static GrpoTrainer.Member member(AdvantageMember m) {
        int[] prompt = m.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray();
        int[] completion = m.getTokenIds().stream().mapToInt(Integer::intValue).toArray();
        long[] seeds = m.getMaskSeeds().stream().mapToLong(Long::longValue).toArray();
        float[][] logps = new float[m.getBehaviourLogProbs().size()][];
        for (int j = 0; j < logps.length; j++) {
            List<Float> row = m.getBehaviourLogProbs().get(j);
            logps[j] = new float[row.size()];
            for (int k = 0; k < row.size(); k++) {
                logps[j][k] = row.get(k);
            }
        }
        return new GrpoTrainer.Member(
                m.getCompletionId(),
                prompt,
                completion,
                seeds,
                logps,
                m.getAdvantage(),
                m.getPolicyVersion());
    }

    /**
     * Writes the next checkpoint, then commits the open transaction: its TrainSteps, the Checkpoint
     * event and the accounted offsets.
     */
    private void checkpoint() throws IOException {
        if (!inTransaction) {
            producer.beginTransaction();
            inTransaction = true;
        }
        long next = version + 1;
        PolicyModel policy = trainer.policy();
        String sha = WeightsDigest.of(policy);
        TrainerState state =
                new TrainerState(
                        run.id(),
                        next,
                        trainer.steps(),
                        batch,
                        groupsConsumed,
                        configHash,
                        version,
                        lastCheckpoint == null ? "" : lastCheckpoint.getSha256());
        URI uri =
                store.put(
                        checkpointName(next),
                        dir -> {
                            HfCheckpoint.save(policy, tokenizer, dir);
                            HfCheckpoint.save(
                                    trainer.reference(), tokenizer, dir.resolve("reference"));
                            trainer.saveOptimizer(dir.resolve("optimizer.safetensors"));
                            state.write(dir);
                            Files.writeString(dir.resolve("recipe.yaml"), recipeYaml);
                        });
        Checkpoint event =
                Checkpoint.newBuilder()
                        .setRunId(run.id())
                        .setVersion(next)
                        .setUri(uri.toString())
                        .setSha256(sha)
                        .setStep(trainer.steps())
                        .setParentVersion(version)
                        .setParentSha256(lastCheckpoint == null ? null : lastCheckpoint.getSha256())
                        .setConfigHash(configHash)
                        .setKind(CheckpointKind.TRAINED)
                        .setCreatedAt(Instant.now())
                        .build();
        sendCheckpoint(event);
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        accounted.forEach((tp, o) -> offsets.put(tp, new OffsetAndMetadata(o)));
        if (!offsets.isEmpty()) {
            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
        }
        producer.commitTransaction();
        inTransaction = false;
        accounted.clear();
        batchesSinceCheckpoint = 0;
        version = next;
        lastCheckpoint = event;
        metrics.emit("learner/policy_version", version, trainer.steps(), version);
        LOG.info(
                "learner: step {} -> checkpoint v{} ({}…)",
                trainer.steps(),
                next,
                sha.substring(0, 12));
        try {
            store.prune(cfg.keepCheckpoints() + 1, Set.of(checkpointName(0)));
        } catch (IOException e) {
            LOG.warn("learner: pruning old checkpoints failed: {}", e.toString());
        }
    }

    private void sendCheckpoint(Checkpoint event) {
        Topic<Checkpoint> topic = topics.checkpoints();
        producer.send(
                new ProducerRecord<>(
                        topic.name(),
                        run.id().getBytes(StandardCharsets.UTF_8),
                        topic.valueSerde().serialize(topic.name(), event)));
    }

    /**
     * Loads the newest committed checkpoint of the run (weights, reference, optimizer, counters),
     * or, on the run's first start, the starting checkpoint, published as version 0.
     */
    private void restore() throws IOException {
        Optional<Checkpoint> latest;
        try (CheckpointFollower follower =
                new CheckpointFollower(
                        kafka, topics.checkpoints(), run.id(), "learner-restore-" + run.id())) {
            latest = follower.catchUp(Duration.ofSeconds(60));
        }
        if (trainer != null) {
            trainer.close();
            trainer.policy().close();
            trainer.reference().close();
            trainer = null;
        }
        buffer.clear();
        pendingSkipped.clear();
        accounted.clear();
        batchesSinceCheckpoint = 0;
        if (latest.isEmpty()) {
            startFresh();
            return;
        }
        Checkpoint c = latest.get();
        Path dir = store.fetch(URI.create(c.getUri()));
        LoadedPolicy loaded =
                LoadedPolicy.load(dir, policyCfg.device(), true, c.getVersion(), c.getSha256());
        PolicyModel reference =
                Files.isDirectory(dir.resolve("reference"))
                        ? HfCheckpoint.load(dir.resolve("reference"), policyCfg.device(), false)
                        : loaded.model().frozenCopy();
        TrainerState state =
                Files.isRegularFile(dir.resolve(TrainerState.FILE))
                        ? TrainerState.read(dir)
                        : new TrainerState(run.id(), c.getVersion(), c.getStep(), 0, 0, "", -1, "");
        tokenizer = loaded.tokenizer();
        trainer =
                new GrpoTrainer(
                        loaded.model(),
                        reference,
                        tokenizer,
                        grpo,
                        cfg.groupsPerMicroBatch(),
                        state.step());
        Path optimizer = dir.resolve("optimizer.safetensors");
        if (Files.isRegularFile(optimizer)) {
            trainer.loadOptimizer(optimizer);
        }
        version = c.getVersion();
        stepsDone = trainer.steps();
        batch = state.batch();
        groupsConsumed = state.groupsConsumed();
        lastCheckpoint = c;
        LOG.info(
                "learner: resumed run {} at checkpoint v{} (step {}, {} groups consumed)",
                run.id(),
                version,
                trainer.steps(),
                groupsConsumed);
    }

    private void startFresh() throws IOException {
        if (policyCfg.init().isBlank()) {
            throw new IllegalArgumentException(
                    "policy.init is empty and run '"
                            + run.id()
                            + "' has no checkpoint yet: point policy.init at a starting"
                            + " checkpoint directory (HF layout)");
        }
        Path init = Path.of(policyCfg.init());
        LoadedPolicy loaded = LoadedPolicy.load(init, policyCfg.device(), true, 0, null);
        tokenizer = loaded.tokenizer();
        PolicyModel reference = loaded.model().frozenCopy();
        trainer =
                new GrpoTrainer(
                        loaded.model(), reference, tokenizer, grpo, cfg.groupsPerMicroBatch(), 0);
        String sha = WeightsDigest.of(loaded.model());
        TrainerState state = new TrainerState(run.id(), 0, 0, 0, 0, configHash, -1, "");
        URI uri =
                store.put(
                        checkpointName(0),
                        dir -> {
                            HfCheckpoint.save(loaded.model(), tokenizer, dir);
                            state.write(dir);
                            Files.writeString(dir.resolve("recipe.yaml"), recipeYaml);
                        });
        Checkpoint event =
                Checkpoint.newBuilder()
                        .setRunId(run.id())
                        .setVersion(0)
                        .setUri(uri.toString())
                        .setSha256(sha)
                        .setStep(0)
                        .setParentVersion(null)
                        .setParentSha256(null)
                        .setConfigHash(configHash)
                        .setKind(CheckpointKind.INITIAL)
                        .setCreatedAt(Instant.now())
                        .build();
        producer.beginTransaction();
        sendCheckpoint(event);
        producer.commitTransaction();
        version = 0;
        batch = 0;
        groupsConsumed = 0;
        lastCheckpoint = event;
        LOG.info(
                "learner: run {} starts from {} as v0 ({}…)", run.id(), init, sha.substring(0, 12));
    }

    private void abortAndRestore() throws IOException {
        abortQuietly();
        // The in-memory weights may hold uncommitted steps: go back to the committed state.
        restore();
        Map<TopicPartition, OffsetAndMetadata> committed =
                consumer.committed(consumer.assignment());
        for (TopicPartition tp : consumer.assignment()) {
            OffsetAndMetadata om = committed.get(tp);
            if (om != null) {
                consumer.seek(tp, om);
            } else {
                consumer.seekToBeginning(List.of(tp));
            }
        }
    }

    private void abortQuietly() {
        if (!inTransaction) {
            return;
        }
        try {
            producer.abortTransaction();
        } catch (RuntimeException e) {
            LOG.debug("learner: abort failed: {}", e.toString());
        }
        inTransaction = false;
    }

    /** Counters for progress displays. */
    public Status status() {
        return new Status(
                stepsDone,
                version,
                groupsConsumed,
                lastLoss,
                lastKl,
                lastReward,
                lastStaleness,
                droppedStale,
                lastStepSeconds);
    }

    /** Asks the learner to stop: an open checkpoint interval is aborted (resumed on restart). */
    @Override
    public void close() {
        running.set(false);
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }
}

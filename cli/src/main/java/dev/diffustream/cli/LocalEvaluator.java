package dev.diffustream.cli;

import dev.diffustream.learner.eval.EvalConfig;
import dev.diffustream.learner.eval.PassAtK;
import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.store.CheckpointStore;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.CheckpointFollower;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.kafka.MetricSink;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local mode's evaluator: follows the run's checkpoints and measures held-out pass@1 of every
 * {@code eval.everyVersions}-th version on its own thread, publishing {@code eval/heldout_pass@1}
 * (with the checkpoint's step and version) to {@code metrics}.
 */
final class LocalEvaluator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalEvaluator.class);

    /** Metric names of the evaluator. */
    static final String PASS_AT_1 = "eval/heldout_pass@1";

    static final String FORMAT_VALID = "eval/heldout_format_valid";

    /** One evaluated version. */
    record Point(long version, long step, double passAt1, double formatValid, double seconds) {}

    private final Recipe recipe;
    private final EvalConfig cfg;
    private final KafkaConfig kafka;
    private final Topics topics;
    private final CheckpointStore store;
    private final SandboxScorer scorer;
    private final List<CodeTask> tasks;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Point> points = new CopyOnWriteArrayList<>();
    private volatile boolean busy;
    private long lastEvaluated = -1;

    LocalEvaluator(
            Recipe recipe,
            EvalConfig cfg,
            Topics topics,
            CheckpointStore store,
            SandboxScorer scorer,
            List<CodeTask> tasks) {
        this.recipe = recipe;
        this.cfg = cfg;
        this.kafka = recipe.kafka();
        this.topics = topics;
        this.store = store;
        this.scorer = scorer;
        this.tasks = tasks;
    }

    /** Records a result measured elsewhere (e.g. the cached baseline of version 0). */
    void record(Point p, MetricSink sink) {
        points.add(p);
        lastEvaluated = Math.max(lastEvaluated, p.version());
        sink.emit(PASS_AT_1, p.passAt1(), p.step(), p.version());
        sink.emit(FORMAT_VALID, p.formatValid(), p.step(), p.version());
    }

    List<Point> points() {
        return List.copyOf(points);
    }

    boolean busy() {
        return busy;
    }

    /** Follows checkpoints until closed. */
    void run() {
        try (KafkaProducer<byte[], byte[]> producer =
                        new KafkaProducer<>(Clients.producer(kafka, "evaluator-metrics"));
                CheckpointFollower follower =
                        new CheckpointFollower(
                                kafka, topics.checkpoints(), recipe.run().id(), "evaluator")) {
            MetricSink sink =
                    new MetricSink(producer, topics.metrics(), recipe.run().id(), "evaluator");
            while (running.get()) {
                Optional<Checkpoint> newest = follower.poll(Duration.ofMillis(500));
                if (newest.isEmpty()) {
                    continue;
                }
                Checkpoint c = newest.get();
                boolean due =
                        lastEvaluated < 0
                                || (cfg.everyVersions() > 0
                                        && c.getVersion() >= lastEvaluated + cfg.everyVersions());
                if (due) {
                    Point p = evaluate(c);
                    if (p != null) {
                        record(p, sink);
                    }
                }
            }
            producer.flush();
        }
    }

    /** Evaluates checkpoint {@code c} (on the calling thread). */
    Point evaluate(Checkpoint c) {
        busy = true;
        try (LoadedPolicy policy =
                LoadedPolicy.load(
                        store.fetch(URI.create(c.getUri())),
                        recipe.policy().device(),
                        false,
                        c.getVersion(),
                        c.getSha256())) {
            PassAtK.Result r =
                    Evaluations.run(
                            recipe,
                            cfg,
                            policy.model(),
                            policy.tokenizer(),
                            tasks,
                            scorer,
                            n -> {});
            LOG.info(
                    "evaluator: v{} (step {}) held-out pass@1 {} on {} tasks in {} s",
                    c.getVersion(),
                    c.getStep(),
                    String.format("%.3f", r.passAt1()),
                    r.tasks(),
                    String.format("%.1f", r.seconds()));
            return new Point(
                    c.getVersion(), c.getStep(), r.passAt1(), r.formatValidRate(), r.seconds());
        } catch (Exception e) {
            if (running.get()) {
                LOG.warn("evaluator: evaluating v{} failed: {}", c.getVersion(), e.toString());
            }
            return null;
        } finally {
            busy = false;
        }
    }

    /** The values of {@link #points()} keyed by version. */
    Map<Long, Point> byVersion() {
        java.util.TreeMap<Long, Point> m = new java.util.TreeMap<>();
        for (Point p : points) {
            m.put(p.version(), p);
        }
        return m;
    }

    @Override
    public void close() {
        running.set(false);
    }
}

package dev.diffustream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.infra.LocalKafka;
import dev.diffustream.infra.TopicBootstrap;
import dev.diffustream.infra.config.ConfigLoader;
import dev.diffustream.infra.config.ConfigLoader.Loaded;
import dev.diffustream.infra.registry.RegistryServer;
import dev.diffustream.learner.Learner;
import dev.diffustream.learner.eval.EvalConfig;
import dev.diffustream.learner.eval.PassAtK;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.pretrain.PretrainResult;
import dev.diffustream.policy.store.CheckpointStore;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSuites;
import dev.diffustream.producers.actor.Actor;
import dev.diffustream.producers.feeder.Feeder;
import dev.diffustream.sandbox.SandboxConfig;
import dev.diffustream.sandbox.SandboxEngine;
import dev.diffustream.sandbox.service.SandboxService;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.avro.TrainStep;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.kafka.MetricSink;
import dev.diffustream.schemas.serde.RecordDecoder;
import dev.diffustream.streams.AdvantageConfig;
import dev.diffustream.streams.AdvantageService;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local mode: the whole pipeline on one machine. Starts a real local broker and the registry
 * stand-in, pretrains the tiny model (or reuses the cached one), measures the held-out baseline,
 * then runs the feeder, the actors, the sandboxes, the advantage topology, the learner and an
 * evaluator — each on its own thread, talking only through Kafka exactly as separate processes
 * would — until the time or step budget is spent; then evaluates the final policy and writes the
 * run directory (resolved recipe, checkpoints, metrics as CSV and JSON, PNG plots, summary).
 */
final class LocalRun {
    private static final Logger LOG = LoggerFactory.getLogger(LocalRun.class);

    /** The Kafka Streams state directory inside the run directory; deleted with the Kafka data. */
    static final String STREAMS_STATE = "streams-state";

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** What the command line asked for. */
    record Options(
            double minutes,
            long steps,
            int actors,
            int sandboxes,
            boolean sync,
            Path cache,
            boolean keepKafka,
            int statusEverySeconds) {

        /** Rejects option values that would start a run that cannot do what was asked. */
        Options {
            if (!(minutes > 0) || Double.isInfinite(minutes)) {
                throw new CliException(
                        "--minutes must be a positive number of minutes, got " + minutes);
            }
            if (steps < 0) {
                throw new CliException("--steps must be >= 0 (0: only --minutes), got " + steps);
            }
            if (actors < 1) {
                throw new CliException("--actors must be >= 1, got " + actors);
            }
            if (sandboxes < 1) {
                throw new CliException("--sandboxes must be >= 1, got " + sandboxes);
            }
            if (statusEverySeconds < 1) {
                throw new CliException(
                        "--status-every must be >= 1 second, got " + statusEverySeconds);
            }
        }
    }

    /** The figures of a finished run. */
    record Summary(
            String runId,
            Path runDir,
            double baselinePassAt1,
            double finalPassAt1,
            double baselineFormatValid,
            double finalFormatValid,
            long steps,
            long version,
            double rlSeconds,
            double stepsPerMinute,
            long groupsSettled,
            String estimator,
            boolean sync) {}

    private final Loaded<Recipe> loaded;
    private final Recipe recipe;
    private final Options opts;
    private final PrintWriter err;
    private final List<SandboxEngine> sandboxEngines = new CopyOnWriteArrayList<>();
    private final Path runDir;
    private final Map<String, Throwable> failures = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();

    LocalRun(Loaded<Recipe> loaded, Options opts, PrintWriter err) {
        this.loaded = loaded;
        this.recipe = loaded.value();
        this.opts = opts;
        this.err = err;
        this.runDir = RunContext.runDir(recipe);
    }

    Summary run() throws Exception {
        if (Files.exists(runDir.resolve("checkpoints"))) {
            throw new CliException(
                    "run directory "
                            + runDir
                            + " already holds a run; choose another run id (--run-id or"
                            + " run.id) or delete it");
        }
        Files.createDirectories(runDir);
        checkConsistency(recipe);
        DeviceRuntime.initialize(recipe.policy().device());
        say("run %s in %s", recipe.run().id(), runDir);
        partitionAdvice(recipe.kafka().partitions(), opts.actors()).ifPresent(m -> say("%s", m));

        // 1. the starting checkpoint: pretrained once per (model, pretrain) recipe, then cached
        Path init = startingCheckpoint();
        Recipe r = withSyncLearnerThreads(withInit(recipe, init), opts.sync());

        // 2. the held-out task set and the baseline (cached next to the pretrained checkpoint)
        EvalConfig evalCfg = r.eval();
        List<CodeTask> curveTasks = Evaluations.tasks(evalCfg);
        List<CodeTask> finalTasks = Evaluations.tasks(evalCfg.with(0, 1, evalCfg.temperature()));
        SandboxConfig sandboxCfg = r.sandbox();
        try (SandboxEngine evalEngine =
                        started(SandboxEngine.start(sandboxCfg.toBuilder().workers(1).build()));
                SandboxScorer scorer = new SandboxScorer(evalEngine)) {
            PassAtK.Result baseline =
                    cachedEval(
                            init, r, evalCfg.with(0, 1, evalCfg.temperature()), finalTasks, scorer);
            PassAtK.Result baselineCurve =
                    curveTasks.size() == finalTasks.size()
                            ? baseline
                            : cachedEval(init, r, evalCfg, curveTasks, scorer);
            say(
                    "baseline: held-out pass@1 %.3f on %d tasks (format-valid %.3f)",
                    baseline.passAt1(), baseline.tasks(), baseline.formatValidRate());

            // 3. the cluster
            Path kafkaDir = runDir.resolve("kafka");
            try (LocalKafka kafka =
                            LocalKafka.builder()
                                    .port(0)
                                    .dataDir(kafkaDir)
                                    .keepData(opts.keepKafka())
                                    .start();
                    RegistryServer registry =
                            RegistryServer.builder().bootstrap(kafka.bootstrap()).port(0).start()) {
                KafkaConfig kc = r.kafka().withAddresses(kafka.bootstrap(), registry.url());
                try (Admin admin = Admin.create(Clients.common(kc, "local-admin"))) {
                    TopicBootstrap.ensure(admin, kc, Duration.ofSeconds(60));
                }
                Recipe rr = withKafka(r, kc);
                Files.writeString(runDir.resolve("recipe.yaml"), ConfigLoader.toYaml(rr));
                say("kafka %s, registry %s", kafka.bootstrap(), registry.url());
                return pipeline(rr, baseline, baselineCurve, curveTasks, finalTasks, scorer);
            } finally {
                if (!opts.keepKafka()) {
                    deleteQuietly(kafkaDir);
                    deleteQuietly(runDir.resolve(STREAMS_STATE));
                }
            }
        }
    }

    /**
     * The run's topology settings: {@link StreamsCommand#forRun}, and with {@code
     * advantages.stateDir} empty a state directory inside the run directory. Kafka Streams' own
     * default is one directory under the OS temp dir shared by every run: a run id used twice then
     * finds the first run's local state, which points past the end of the new broker's changelogs,
     * and restores it from scratch with a "task corrupted" warning.
     */
    static AdvantageConfig streamsConfig(Recipe r, Path runDir) {
        AdvantageConfig cfg = StreamsCommand.forRun(r);
        if (!cfg.stateDir().isEmpty()) {
            return cfg;
        }
        return cfg.toBuilder()
                .stateDir(runDir.resolve(STREAMS_STATE).toAbsolutePath().toString())
                .build();
    }

    private Summary pipeline(
            Recipe r,
            PassAtK.Result baseline,
            PassAtK.Result baselineCurve,
            List<CodeTask> curveTasks,
            List<CodeTask> finalTasks,
            SandboxScorer scorer)
            throws Exception {
        CheckpointStore store = RunContext.checkpointStore(r);
        AtomicBoolean stopFeeder = new AtomicBoolean();
        try (RunContext ctx = new RunContext(r);
                KafkaProducer<byte[], byte[]> metricProducer =
                        new KafkaProducer<>(Clients.producer(r.kafka(), "local-metrics"))) {
            MetricSink localMetrics =
                    new MetricSink(
                            metricProducer, ctx.topics().metrics(), r.run().id(), "evaluator");
            List<SandboxEngine> engines = new ArrayList<>();
            List<SandboxService> sandboxes = new ArrayList<>();
            List<Actor> actors = new ArrayList<>();
            AdvantageService streams =
                    new AdvantageService(
                            streamsConfig(r, runDir), r.rewards(), r.kafka(), ctx.topics());
            Learner learner =
                    new Learner(
                            r.kafka(),
                            r.run(),
                            r.learner(),
                            r.policy(),
                            r.grpo(),
                            ctx.topics(),
                            store,
                            loaded.sha256(),
                            ConfigLoader.toYaml(r),
                            null);
            LocalEvaluator evaluator =
                    new LocalEvaluator(r, r.eval(), ctx.topics(), store, scorer, curveTasks);
            InterruptNotice onInterrupt = new InterruptNotice(() -> interrupted(learner.status()));
            evaluator.record(
                    new LocalEvaluator.Point(
                            0, 0, baselineCurve.passAt1(), baselineCurve.formatValidRate(), 0),
                    localMetrics);
            try {
                for (int i = 0; i < opts.sandboxes(); i++) {
                    SandboxEngine engine =
                            SandboxEngine.start(r.sandbox().toBuilder().workers(1).build());
                    engines.add(started(engine));
                    SandboxService s =
                            new SandboxService(
                                    r.kafka(), r.run().id(), ctx.topics(), engine, "sandbox-" + i);
                    sandboxes.add(s);
                    start("sandbox-" + i, s::run);
                }
                streams.start();
                start("learner", learner::run);
                for (int i = 0; i < opts.actors(); i++) {
                    Actor a =
                            new Actor(
                                    r.kafka(),
                                    r.run(),
                                    r.actor(),
                                    r.policy(),
                                    r.grpo(),
                                    r.sampler(),
                                    ctx.topics(),
                                    store,
                                    "actor-" + i);
                    actors.add(a);
                    start("actor-" + i, a::run);
                }
                Feeder feeder =
                        new Feeder(
                                r.kafka(),
                                r.run(),
                                r.feeder(),
                                ctx.topics(),
                                TaskSuites.open(r.feeder().suite()));
                start("feeder", () -> feeder.run(stopFeeder::get, (seq, total, consumed) -> {}));
                start("evaluator", evaluator::run);

                long started = System.nanoTime();
                long deadline = started + (long) (opts.minutes() * 60e9);
                long lastStatus = 0;
                while (true) {
                    Thread.sleep(500);
                    Learner.Status ls = learner.status();
                    boolean stepsDone = opts.steps() > 0 && ls.step() >= opts.steps();
                    boolean learnerEnded = !threadAlive("learner");
                    if (!failures.isEmpty()) {
                        Map.Entry<String, Throwable> f = failures.entrySet().iterator().next();
                        throw new CliException(
                                "local run: " + f.getKey() + " failed: " + f.getValue(),
                                f.getValue());
                    }
                    if (System.nanoTime() - lastStatus > opts.statusEverySeconds() * 1e9) {
                        status(started, ls, actors, sandboxes, evaluator);
                        lastStatus = System.nanoTime();
                    }
                    if (stepsDone || learnerEnded || System.nanoTime() > deadline) {
                        break;
                    }
                }
                double rlSeconds = (System.nanoTime() - started) / 1e9;
                say("stopping the pipeline");
                stopFeeder.set(true);
                evaluator.close();
                actors.forEach(Actor::close);
                learner.close();
                join(Duration.ofSeconds(120), "feeder", "evaluator", "actor-", "learner");
                sandboxes.forEach(SandboxService::close);
                join(Duration.ofSeconds(60), "sandbox-");
                streams.close(Duration.ofSeconds(30));
                Learner.Status end = learner.status();
                say("RL phase: %d steps in %.1f min", end.step(), rlSeconds / 60);

                // final evaluation of the newest committed checkpoint, on the full held-out set
                PassAtK.Result fin =
                        end.version() == 0 ? baseline : finalEval(r, store, finalTasks, scorer);
                Summary summary =
                        new Summary(
                                r.run().id(),
                                runDir,
                                baseline.passAt1(),
                                fin.passAt1(),
                                baseline.formatValidRate(),
                                fin.formatValidRate(),
                                end.step(),
                                end.version(),
                                rlSeconds,
                                end.step() / (rlSeconds / 60),
                                end.groupsConsumed(),
                                r.grpo().estimator().name().toLowerCase(Locale.ROOT),
                                opts.sync());
                localMetrics.emit(
                        LocalEvaluator.PASS_AT_1 + "_final",
                        fin.passAt1(),
                        end.step(),
                        end.version());
                metricProducer.flush();
                artifacts(r, ctx, summary, evaluator);
                return summary;
            } finally {
                onInterrupt.close();
                stopFeeder.set(true);
                evaluator.close();
                actors.forEach(Actor::close);
                learner.close();
                sandboxes.forEach(SandboxService::close);
                join(Duration.ofSeconds(30), "");
                streams.close(Duration.ofSeconds(10));
                engines.forEach(SandboxEngine::close);
            }
        }
    }

    /**
     * Ctrl-C or SIGTERM during the RL phase: says what the run directory keeps, then silences the
     * warnings of clients that lose the broker, which stops with this process.
     */
    private void interrupted(Learner.Status s) {
        Main.Logs.quietForShutdown();
        sandboxEngines.forEach(SandboxEngine::close); // their scripts directories in /tmp
        err.printf(
                Locale.ROOT,
                "%nlocal: interrupted at learner step %d (policy v%d). %s keeps the committed"
                        + " checkpoints%s; no summary or plots were written.%n",
                s.step(),
                s.version(),
                runDir,
                opts.keepKafka() ? " and the topics" : "");
        err.flush();
    }

    private SandboxEngine started(SandboxEngine engine) {
        sandboxEngines.add(engine);
        return engine;
    }

    private PassAtK.Result finalEval(
            Recipe r, CheckpointStore store, List<CodeTask> tasks, SandboxScorer scorer)
            throws Exception {
        Path latest = latestCheckpoint(store);
        say("final evaluation of %s on %d held-out tasks", latest.getFileName(), tasks.size());
        try (LoadedPolicy policy = LoadedPolicy.load(latest, r.policy().device(), false, 0, null)) {
            Progress bar = new Progress(err, "eval", tasks.size());
            EvalConfig cfg = r.eval().with(0, 1, r.eval().temperature());
            PassAtK.Result res =
                    Evaluations.runAlone(
                            r, cfg, policy.model(), policy.tokenizer(), tasks, scorer, bar::update);
            bar.done();
            JSON.writeValue(runDir.resolve("eval-final.json").toFile(), res);
            return res;
        }
    }

    /** The newest complete checkpoint directory in the store (the learner commits in order). */
    private static Path latestCheckpoint(CheckpointStore store) throws IOException {
        Path root = ((dev.diffustream.policy.store.LocalCheckpointStore) store).root();
        try (var s = Files.list(root)) {
            return s.filter(Files::isDirectory)
                    .filter(p -> p.getFileName().toString().matches("v\\d+"))
                    .max(java.util.Comparator.comparing(p -> p.getFileName().toString()))
                    .orElseThrow(() -> new IOException("no checkpoint in " + root));
        }
    }

    private void status(
            long started,
            Learner.Status ls,
            List<Actor> actors,
            List<SandboxService> sandboxes,
            LocalEvaluator evaluator) {
        double minutes = (System.nanoTime() - started) / 60e9;
        long groups = actors.stream().mapToLong(a -> a.status().groups()).sum();
        long tokens = actors.stream().mapToLong(a -> a.status().tokens()).sum();
        long execs = sandboxes.stream().mapToLong(s -> s.status().executions()).sum();
        var points = evaluator.points();
        String pass =
                points.isEmpty()
                        ? "-"
                        : String.format(
                                Locale.ROOT,
                                "%.3f (v%d)",
                                points.get(points.size() - 1).passAt1(),
                                points.get(points.size() - 1).version());
        err.printf(
                Locale.ROOT,
                "[%s] step %d v%d | reward %.2f | held-out pass@1 %s%s | staleness %.2f | actors"
                        + " %.1f groups/min %.0f tok/s | sandbox %.1f exec/s | learner %d groups,"
                        + " %.1f steps/min, loss %.3f kl %.4f%n",
                Progress.clock(minutes * 60),
                ls.step(),
                ls.version(),
                ls.lastRewardMean(),
                pass,
                evaluator.busy() ? " (evaluating)" : "",
                ls.lastStalenessMean(),
                groups / Math.max(1e-9, minutes),
                tokens / Math.max(1e-9, minutes * 60),
                execs / Math.max(1e-9, minutes * 60),
                ls.groupsConsumed(),
                ls.step() / Math.max(1e-9, minutes),
                ls.lastLoss(),
                ls.lastKl());
        err.flush();
    }

    /** Metrics and steps from the topics into CSV/JSON, plots, summary. */
    private void artifacts(Recipe r, RunContext ctx, Summary summary, LocalEvaluator evaluator)
            throws IOException {
        List<Metric> metrics = readAll(r.kafka(), ctx.topics().metrics());
        List<TrainStep> steps = readAll(r.kafka(), ctx.topics().trainSteps());
        try (Writer w =
                Files.newBufferedWriter(runDir.resolve("metrics.csv"), StandardCharsets.UTF_8)) {
            w.write("timestamp_ms,source,name,value,step,policy_version\n");
            for (Metric m : metrics) {
                if (!r.run().id().equals(m.getRunId())) {
                    continue;
                }
                w.write(
                        String.format(
                                Locale.ROOT,
                                "%d,%s,%s,%s,%s,%s%n",
                                m.getTimestamp().toEpochMilli(),
                                m.getSource(),
                                m.getName(),
                                Double.toString(m.getValue()),
                                m.getStep() == null ? "" : m.getStep().toString(),
                                m.getPolicyVersion() == null
                                        ? ""
                                        : m.getPolicyVersion().toString()));
            }
        }
        try (Writer w =
                Files.newBufferedWriter(
                        runDir.resolve("train_steps.csv"), StandardCharsets.UTF_8)) {
            w.write(
                    "step,batch,iteration,policy_version_before,groups,skipped_groups,loss,policy_loss,kl,"
                            + "clip_low,clip_high,grad_norm,learning_rate,tokens,staleness_mean,"
                            + "staleness_max,reward_mean,reward_std,duration_ms\n");
            for (TrainStep s : steps) {
                w.write(
                        String.format(
                                Locale.ROOT,
                                "%d,%d,%d,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3e,%d,%.3f,%d,%.6f,%.6f,%d%n",
                                s.getStep(),
                                s.getBatch(),
                                s.getIteration(),
                                s.getPolicyVersionBefore(),
                                s.getGroups().size(),
                                s.getSkippedGroups().size(),
                                s.getLoss(),
                                s.getPolicyLoss(),
                                s.getKl(),
                                s.getClipFractionLow(),
                                s.getClipFractionHigh(),
                                s.getGradNorm(),
                                s.getLearningRate(),
                                s.getTokens(),
                                s.getStalenessMean(),
                                s.getStalenessMax(),
                                s.getRewardMean(),
                                s.getRewardStd(),
                                s.getDurationMs()));
            }
        }
        ObjectNode root = JSON.valueToTree(summary);
        root.put("runDir", runDir.toString());
        ArrayNode curve = root.putArray("heldOutCurve");
        for (LocalEvaluator.Point p : evaluator.points()) {
            curve.add(JSON.valueToTree(p));
        }
        JSON.writeValue(runDir.resolve("summary.json").toFile(), root);
        try (Writer w =
                Files.newBufferedWriter(runDir.resolve("metrics.json"), StandardCharsets.UTF_8)) {
            ArrayNode all = JSON.createArrayNode();
            for (Metric m : metrics) {
                if (!r.run().id().equals(m.getRunId())) {
                    continue;
                }
                ObjectNode o = all.addObject();
                o.put("timestamp_ms", m.getTimestamp().toEpochMilli());
                o.put("source", m.getSource());
                o.put("name", m.getName());
                o.put("value", m.getValue());
                if (m.getStep() != null) {
                    o.put("step", m.getStep());
                }
                if (m.getPolicyVersion() != null) {
                    o.put("policy_version", m.getPolicyVersion());
                }
            }
            w.write(JSON.writeValueAsString(all));
        }
        // plots: reward per step, held-out pass@1 per step
        double[] x = steps.stream().mapToDouble(TrainStep::getStep).toArray();
        double[] y = steps.stream().mapToDouble(TrainStep::getRewardMean).toArray();
        LinePlot.write(
                runDir.resolve("plots/reward.png"),
                "Mean reward of trained groups (" + r.run().id() + ")",
                "learner step",
                "reward (2.0·code + 0.5·format)",
                List.of(new LinePlot.Series("rewards/mean", x, movingAverage(y, 8))));
        List<LocalEvaluator.Point> pts = new ArrayList<>(evaluator.points());
        pts.add(
                new LocalEvaluator.Point(
                        summary.version(),
                        summary.steps(),
                        summary.finalPassAt1(),
                        summary.finalFormatValid(),
                        0));
        LinePlot.write(
                runDir.resolve("plots/heldout_pass1.png"),
                "Held-out pass@1 (" + r.run().id() + ")",
                "learner step",
                "pass@1",
                List.of(
                        new LinePlot.Series(
                                "held-out pass@1",
                                pts.stream().mapToDouble(LocalEvaluator.Point::step).toArray(),
                                pts.stream()
                                        .mapToDouble(LocalEvaluator.Point::passAt1)
                                        .toArray())));
    }

    static double[] movingAverage(double[] y, int window) {
        double[] out = new double[y.length];
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += y[i];
            if (i >= window) {
                sum -= y[i - window];
            }
            out[i] = sum / Math.min(i + 1, window);
        }
        return out;
    }

    /** Every record of a topic (read_committed), decoded. */
    static <V extends org.apache.avro.specific.SpecificRecord> List<V> readAll(
            KafkaConfig kafka, Topic<V> topic) {
        List<V> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(Clients.consumer(kafka, "local-export", null))) {
            List<PartitionInfo> infos = c.partitionsFor(topic.name(), Duration.ofSeconds(30));
            List<TopicPartition> tps =
                    infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            RecordDecoder<V> decoder = new RecordDecoder<>(topic);
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> rec : c.poll(Duration.ofMillis(500))) {
                    try {
                        out.add(decoder.value(rec));
                    } catch (RuntimeException e) {
                        LOG.warn("export: skipping undecodable record: {}", e.getMessage());
                    }
                }
            }
        }
        if (out.size() > 0 && out.get(0) instanceof TrainStep) {
            out.sort(java.util.Comparator.comparingLong(v -> ((TrainStep) v).getStep()));
        }
        return out;
    }

    /**
     * What a baseline's result depends on, and nothing else: the evaluation settings that change
     * it, the sampler as the evaluation uses it (at the evaluation temperature), the prompt and the
     * rewards.
     */
    private record BaselineInputs(
            String suite,
            String split,
            int samples,
            int batchRows,
            long seed,
            SamplerConfig sampler,
            String systemPrompt,
            int maxPromptLength,
            RewardWeights rewards) {}

    /**
     * The cache key of a baseline evaluation on {@code tasks} tasks. The schedule and cost settings
     * (eval.everyVersions, eval.threads, the curve's eval.tasks) and the rollout temperature are
     * not in it, so changing them reuses the baseline.
     */
    static String baselineKey(Recipe r, EvalConfig cfg, int tasks) {
        BaselineInputs in =
                new BaselineInputs(
                        cfg.suite(),
                        cfg.split(),
                        cfg.samples(),
                        cfg.batchRows(),
                        cfg.seed(),
                        Evaluations.sampler(r, cfg),
                        r.policy().systemPrompt(),
                        r.grpo().maxPromptLength(),
                        r.rewards());
        return ConfigLoader.sha256(in).substring(0, 16) + "-" + tasks;
    }

    private PassAtK.Result cachedEval(
            Path checkpoint, Recipe r, EvalConfig cfg, List<CodeTask> tasks, SandboxScorer scorer)
            throws Exception {
        String key = baselineKey(r, cfg, tasks.size());
        Path dir = baselineDir(opts.cache(), checkpoint);
        Path file = dir.resolve("baseline-eval-" + key + ".json");
        return underCacheLock(
                dir,
                () -> say("waiting for another process that is measuring this baseline in %s", dir),
                () -> {
                    if (Files.isRegularFile(file)) {
                        return JSON.readValue(file.toFile(), PassAtK.Result.class);
                    }
                    say(
                            "measuring the baseline on %d held-out tasks (cached in %s)",
                            tasks.size(), dir);
                    try (LoadedPolicy policy =
                            LoadedPolicy.load(checkpoint, r.policy().device(), false, 0, null)) {
                        Progress bar =
                                new Progress(err, "baseline eval", tasks.size() * cfg.samples());
                        PassAtK.Result res =
                                Evaluations.runAlone(
                                        r,
                                        cfg,
                                        policy.model(),
                                        policy.tokenizer(),
                                        tasks,
                                        scorer,
                                        bar::update);
                        bar.done();
                        writeJsonAtomically(file, res);
                        return res;
                    }
                });
    }

    /** The cache directory of the tiny model pretrained with this recipe's model and pretrain. */
    private Path pretrainDir() {
        String key =
                ConfigLoader.sha256(recipe.model()).substring(0, 10)
                        + "-"
                        + ConfigLoader.sha256(recipe.pretrain()).substring(0, 10);
        return opts.cache().resolve("pretrained").resolve(key);
    }

    /** Ctrl-C or SIGTERM while pretraining: says whether the next run resumes it. */
    private void interruptedPretraining() {
        err.println(); // after the progress bar's line
        int every = recipe.pretrain().checkpointEvery();
        if (every > 0) {
            say(
                    "interrupted while pretraining; the next run resumes from the state saved"
                            + " every %d steps in %s",
                    every, pretrainDir().resolve("state"));
        } else {
            say(
                    "interrupted while pretraining; the next run starts it over"
                            + " (pretrain.checkpointEvery is 0)");
        }
    }

    /** policy.init, or the pretrained tiny model from the cache (pretraining it if needed). */
    private Path startingCheckpoint() throws Exception {
        if (!recipe.policy().init().isBlank()) {
            Path init = Path.of(recipe.policy().init());
            if (!Files.isRegularFile(init.resolve("config.json"))) {
                throw new CliException(
                        "policy.init " + init + " is not a checkpoint directory (no config.json)");
            }
            return init;
        }
        Path dir = pretrainDir();
        Path checkpoint = dir.resolve(dev.diffustream.policy.pretrain.Pretrainer.CHECKPOINT_DIR);
        return underCacheLock(
                dir,
                () -> say("waiting for another process that is pretraining this model in %s", dir),
                () -> {
                    if (Files.isRegularFile(checkpoint.resolve("config.json"))) {
                        say("reusing the pretrained model %s", checkpoint);
                        return checkpoint;
                    }
                    say("pretraining the tiny model (once; cached in %s)", dir);
                    PretrainResult res;
                    try (InterruptNotice n = new InterruptNotice(this::interruptedPretraining)) {
                        res =
                                PretrainCommand.run(
                                        recipe.model(), recipe.pretrain(), "builtin", dir, err);
                    }
                    if (res.evaluation() != null) {
                        say(
                                "pretrained: held-out format-valid %.3f, exact match %.3f",
                                res.evaluation().formatValidRate(),
                                res.evaluation().exactMatchRate());
                    }
                    return res.checkpointDir();
                });
    }

    /**
     * While open, a Ctrl-C or SIGTERM first runs {@code notice}, to say what the run keeps. Closing
     * it removes the hook (the phase ended normally).
     */
    private static final class InterruptNotice implements AutoCloseable {
        private final Thread hook;

        InterruptNotice(Runnable notice) {
            this.hook = new Thread(notice, "local-interrupted");
            Runtime.getRuntime().addShutdownHook(hook);
        }

        @Override
        public void close() {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is stopping: the hook has run or is running
            }
        }
    }

    /**
     * Runs {@code body} holding an exclusive lock on {@code dir/.lock} (fcntl, released if the
     * process dies). Two local runs started at once with an empty cache used to pretrain into the
     * same directory together; now the second waits, saying so ({@code onWait}), and then finds the
     * first one's result.
     */
    static <T> T underCacheLock(Path dir, Runnable onWait, Callable<T> body) throws Exception {
        Files.createDirectories(dir);
        try (FileChannel channel =
                FileChannel.open(
                        dir.resolve(".lock"),
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                onWait.run();
                lock = channel.lock();
            }
            try {
                return body.call();
            } finally {
                lock.release();
            }
        }
    }

    /**
     * Where the baseline of {@code checkpoint} is cached. Beside a pretrained model of the cache,
     * as before; for a checkpoint of the user's ({@code policy.init}) under {@code
     * CACHE/baselines/KEY}, KEY a digest of its path and of the modification times of its config
     * and weights. A user's model directory is never written to (it may be read-only, or shared).
     */
    static Path baselineDir(Path cache, Path checkpoint) throws IOException {
        Path abs = checkpoint.toAbsolutePath().normalize();
        if (abs.startsWith(cache.toAbsolutePath().normalize())) {
            return abs.getParent();
        }
        StringBuilder stamp = new StringBuilder(abs.toString());
        for (String f :
                List.of("config.json", "model.safetensors", "model.safetensors.index.json")) {
            Path p = abs.resolve(f);
            if (Files.exists(p)) {
                stamp.append('|')
                        .append(f)
                        .append('@')
                        .append(Files.getLastModifiedTime(p).toMillis());
            }
        }
        return cache.resolve("baselines")
                .resolve(ConfigLoader.sha256(stamp.toString()).substring(0, 16));
    }

    /** Writes {@code value} as JSON to a temporary file beside {@code file}, then renames it. */
    static void writeJsonAtomically(Path file, Object value) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
        try {
            JSON.writeValue(tmp.toFile(), value);
            Files.move(
                    tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The pretraining, sampling and GRPO sections must describe the same sequences. */
    static void checkConsistency(Recipe r) {
        List<String> problems = new ArrayList<>();
        if (r.sampler().maxNewTokens() != r.grpo().maxCompletionLength()) {
            problems.add(
                    "sampler.maxNewTokens ("
                            + r.sampler().maxNewTokens()
                            + ") != grpo.maxCompletionLength ("
                            + r.grpo().maxCompletionLength()
                            + ")");
        }
        if (r.policy().init().isBlank()) {
            if (r.pretrain().completionLength() != r.grpo().maxCompletionLength()) {
                problems.add(
                        "pretrain.completionLength ("
                                + r.pretrain().completionLength()
                                + ") != grpo.maxCompletionLength ("
                                + r.grpo().maxCompletionLength()
                                + ")");
            }
            if (!r.pretrain().systemPrompt().equals(r.policy().systemPrompt())) {
                problems.add("pretrain.systemPrompt differs from policy.systemPrompt");
            }
            if (r.pretrain().maxPromptLength() != r.grpo().maxPromptLength()) {
                problems.add(
                        "pretrain.maxPromptLength ("
                                + r.pretrain().maxPromptLength()
                                + ") != grpo.maxPromptLength ("
                                + r.grpo().maxPromptLength()
                                + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new CliException("inconsistent recipe: " + String.join("; ", problems));
        }
    }

    private static Recipe withInit(Recipe r, Path init) {
        return r.withResolved(null, r.policy().withInit(init.toString()), null);
    }

    /**
     * In {@code --sync} mode, with {@code learner.threads} 0, the learner trains with all of the
     * machine's processors: the actors wait for its checkpoint, so nothing else runs meanwhile (the
     * release's on-policy trainer likewise has every device for its update). Without this the
     * comparison with async mode would leave a core idle during every sync update. The resolved
     * count is written to the run's recipe, which {@code replay} reads.
     */
    static Recipe withSyncLearnerThreads(Recipe r, boolean sync) {
        if (!sync || r.learner().threads() > 0) {
            return r;
        }
        return r.withResolved(
                null, null, r.learner().withThreads(Runtime.getRuntime().availableProcessors()));
    }

    /**
     * A warning when the actors cannot share the {@code tasks} partitions evenly. The feeder deals
     * tasks round robin over the partitions and each actor owns whole partitions, so with P
     * partitions and A actors some actors get ⌈P/A⌉ tasks of every P and others ⌊P/A⌋; more actors
     * than partitions leaves the extra ones without work.
     */
    static Optional<String> partitionAdvice(int partitions, int actors) {
        if (actors > partitions) {
            return Optional.of(
                    String.format(
                            Locale.ROOT,
                            "%d actors but %d task partitions: %d actors will get no tasks; set"
                                    + " kafka.partitions to a multiple of --actors",
                            actors,
                            partitions,
                            actors - partitions));
        }
        if (partitions % actors != 0) {
            return Optional.of(
                    String.format(
                            Locale.ROOT,
                            "%d task partitions do not divide evenly among %d actors: some sample"
                                    + " %d tasks of every %d, others %d; set kafka.partitions to a"
                                    + " multiple of --actors",
                            partitions,
                            actors,
                            (partitions + actors - 1) / actors,
                            partitions,
                            partitions / actors));
        }
        return Optional.empty();
    }

    private static Recipe withKafka(Recipe r, KafkaConfig k) {
        return r.withResolved(k, null, null);
    }

    private interface Body {
        void run() throws Exception;
    }

    private void start(String name, Body body) {
        Thread t =
                new Thread(
                        () -> {
                            try {
                                body.run();
                            } catch (Throwable e) {
                                LOG.error("{} failed", name, e);
                                failures.put(name, e);
                            }
                        },
                        name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private boolean threadAlive(String name) {
        return threads.stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }

    /** Waits for the threads whose names start with one of {@code prefixes}. */
    private void join(Duration timeout, String... prefixes) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : threads) {
            if (java.util.Arrays.stream(prefixes).noneMatch(p -> t.getName().startsWith(p))) {
                continue;
            }
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            t.join(left);
            if (t.isAlive()) {
                LOG.warn("{} did not stop within {}", t.getName(), timeout);
            }
        }
    }

    private void say(String format, Object... args) {
        err.println("local: " + String.format(Locale.ROOT, format, args));
        err.flush();
    }

    private static void deleteQuietly(Path dir) {
        try {
            if (Files.exists(dir)) {
                try (var walk = Files.walk(dir)) {
                    walk.sorted(java.util.Comparator.reverseOrder())
                            .forEach(p -> p.toFile().delete());
                }
            }
        } catch (IOException e) {
            LOG.debug("could not delete {}: {}", dir, e.toString());
        }
    }
}

package dev.diffustream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.diffustream.infra.TopicBootstrap;
import dev.diffustream.infra.config.ConfigLoader;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.SchemaRegistry;
import dev.diffustream.schemas.serde.RecordDecoder;
import dev.diffustream.streams.AdvantageConfig;
import dev.diffustream.streams.AdvantageService;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code diffustream rescore}: the advantage topology re-run over a run's recorded completions and
 * executions with another reward or advantage configuration, into new topics.
 */
@Command(
        name = "rescore",
        description = {
            "Re-scores a run: copies its completions and executions byte for byte (same keys,"
                    + " partitions and timestamps) into PREFIX-prefixed topics, runs the advantage"
                    + " topology on them under a fresh application id with the run's recipe and"
                    + " your --set changes (e.g. --set advantages.baseline=mean, --set"
                    + " rewards.format=1.0), waits until every group of the run is closed, and"
                    + " compares the new advantages with the run's. The run's own topics are only"
                    + " read.",
            "Kafka: as for replay (--bootstrap/--registry, else the run's broker, else the run's"
                    + " kept data in RUN/kafka)."
        })
final class RescoreCommand implements Callable<Integer> {

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec CommandSpec spec;

    @Option(
            names = "--run",
            required = true,
            paramLabel = "DIR",
            description =
                    "The run: a local-mode run directory (runs/<id>) or the learner's checkpoint"
                            + " store.")
    Path run;

    @Option(
            names = "--into",
            required = true,
            paramLabel = "PREFIX",
            description =
                    "Topic prefix of the re-scored copy, e.g. 'rs1.': PREFIXcompletions,"
                            + " PREFIXexecutions, PREFIXadvantages, ... (must be new).")
    String into;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            defaultValue = "10m",
            converter = DurationConverter.class,
            description =
                    "Longest wait for every group to close (default 10m; groups missing members"
                            + " close at advantages.groupDeadlineMs).")
    Duration timeout;

    @Option(
            names = "--report",
            paramLabel = "FILE",
            description = "Also write the comparison as JSON to FILE.")
    Path report;

    @Override
    public Integer call() throws Exception {
        Main main = Main.of(spec);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (into == null || !into.matches("[A-Za-z0-9._-]+")) {
            throw new CliException(
                    "--into '" + into + "': use letters, digits, '.', '_' or '-' (e.g. rs1.)");
        }
        ReplayRun rr = ReplayRun.open(run, main.commandLineSettings(), System.getenv());
        Recipe r = rr.recipe();
        String runId = r.run().id();
        if (into.equals(r.kafka().topicPrefix())) {
            throw new CliException(
                    "--into '" + into + "' is the run's own topic prefix; choose a new one");
        }
        Map<String, Record> sections = new LinkedHashMap<>();
        sections.put("advantages", r.advantages());
        sections.put("rewards", r.rewards());
        Startup.print(err, "rescore", r, rr.loaded().sha256(), sections);
        try (ReplayCluster cluster = ReplayCluster.connect(rr, "rescore", err);
                SchemaRegistry registry = Clients.registry(cluster.kafka());
                Admin admin = Admin.create(Clients.common(cluster.kafka(), "rescore-admin"))) {
            KafkaConfig source = cluster.kafka();
            Topics from = new Topics(source.topicPrefix(), registry);
            int partitions = coPartitions(admin, from);
            KafkaConfig target =
                    new KafkaConfig(
                            source.bootstrap(),
                            source.registry(),
                            source.registryAuth(),
                            into,
                            partitions,
                            source.replicationFactor(),
                            source.client());
            Topics to = new Topics(into, registry);
            requireEmpty(admin, source, to);
            TopicBootstrap.ensure(admin, target, Duration.ofSeconds(60));
            awaitLeaders(admin, List.of(to.completions(), to.executions(), to.advantages()));

            // 1. the run's inputs, byte for byte, into the new prefix
            Set<String> expected = new HashSet<>();
            long completions = copy(source, from.completions(), to.completions(), runId, expected);
            long executions = copy(source, from.executions(), to.executions(), null, null);
            err.printf(
                    Locale.ROOT,
                    "rescore: copied %d completions and %d executions into %s and %s; run %s has"
                            + " %d groups%n",
                    completions,
                    executions,
                    to.completions().name(),
                    to.executions().name(),
                    runId,
                    expected.size());
            err.flush();

            // 2. the normal topology on the copy, under a fresh application id and state dir
            Path state = Files.createTempDirectory("diffustream-rescore-");
            AdvantageConfig cfg =
                    r.advantages().toBuilder()
                            .applicationId(
                                    (into + "advantages-rescore-" + runId)
                                            .replaceAll("[^A-Za-z0-9._-]", "-"))
                            .stateDir(state.toString())
                            .build();
            Map<String, AdvantageGroup> rescored;
            long t0 = System.nanoTime();
            try (AdvantageService service = new AdvantageService(cfg, r.rewards(), target, to)) {
                service.start();
                rescored = awaitGroups(target, to.advantages(), runId, expected, err);
            } finally {
                deleteTree(state);
            }
            err.printf(
                    Locale.ROOT,
                    "rescore: %d groups closed in %.1f s%n",
                    rescored.size(),
                    (System.nanoTime() - t0) / 1e9);

            // 3. the comparison with the run's own advantages
            List<AdvantageGroup> original = new ArrayList<>();
            for (AdvantageGroup g : LocalRun.readAll(source, from.advantages())) {
                if (runId.equals(g.getRunId())) {
                    original.add(g);
                }
            }
            RescoreComparison.Comparison c =
                    RescoreComparison.compare(original, new ArrayList<>(rescored.values()));
            out.printf(
                    Locale.ROOT,
                    "rescored run %s into %s (advantages.baseline %s, scaleRewards %s,"
                            + " zeroVariance %s, minMembers %d; rewards code %s format %s)%n",
                    runId,
                    to.advantages().name(),
                    r.advantages().baseline().wireName(),
                    r.advantages().scaleRewards(),
                    r.advantages().zeroVariance().name().toLowerCase(Locale.ROOT),
                    r.advantages().minMembers(),
                    r.rewards().code(),
                    r.rewards().format());
            for (String line :
                    RescoreComparison.table(c, from.advantages().name(), to.advantages().name())) {
                out.println(line);
            }
            out.flush();
            if (report != null) {
                Path parent = report.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("runId", runId);
                json.put("source", from.advantages().name());
                json.put("target", to.advantages().name());
                json.put("advantages", ConfigLoader.toYaml(r.advantages()));
                json.put("rewards", ConfigLoader.toYaml(r.rewards()));
                json.put("comparison", c);
                JSON.writeValue(report.toFile(), json);
            }
            return 0;
        }
    }

    /** The partition count shared by the run's completions and executions. */
    private static int coPartitions(Admin admin, Topics from) throws Exception {
        String c = from.completions().name();
        String e = from.executions().name();
        Map<String, TopicDescription> d;
        try {
            d = admin.describeTopics(List.of(c, e)).allTopicNames().get();
        } catch (java.util.concurrent.ExecutionException ex) {
            throw new CliException(
                    "cannot describe the run's topics " + c + ", " + e + ": " + ex.getCause(), ex);
        }
        int pc = d.get(c).partitions().size();
        int pe = d.get(e).partitions().size();
        if (pc != pe) {
            throw new CliException(
                    c
                            + " has "
                            + pc
                            + " partitions but "
                            + e
                            + " has "
                            + pe
                            + ": not co-partitioned");
        }
        return pc;
    }

    /** Refuses a prefix whose completions, executions or advantages already hold records. */
    private static void requireEmpty(Admin admin, KafkaConfig kafka, Topics to) throws Exception {
        Set<String> existing = admin.listTopics().names().get();
        for (Topic<?> t : List.of(to.completions(), to.executions(), to.advantages())) {
            if (!existing.contains(t.name())) {
                continue;
            }
            try (KafkaConsumer<byte[], byte[]> c =
                    new KafkaConsumer<>(Clients.consumer(kafka, "rescore-probe", null))) {
                List<TopicPartition> tps = partitions(c, t.name());
                Map<TopicPartition, Long> begin = c.beginningOffsets(tps);
                Map<TopicPartition, Long> end = c.endOffsets(tps);
                for (TopicPartition tp : tps) {
                    if (end.get(tp) > begin.get(tp)) {
                        throw new CliException(
                                "topic "
                                        + t.name()
                                        + " already holds records: --into needs a new prefix");
                    }
                }
            }
        }
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
        List<TopicPartition> tps = new ArrayList<>();
        for (PartitionInfo i : infos) {
            tps.add(new TopicPartition(topic, i.partition()));
        }
        tps.sort(Comparator.comparingInt(TopicPartition::partition));
        return tps;
    }

    /**
     * Copies every committed record of {@code from} into the same partition of {@code to} (key,
     * value, headers and timestamp unchanged), up to the last stable offset as of now; collects the
     * keys (group ids) of run {@code runId}'s records into {@code keys} when given.
     */
    private static <V extends org.apache.avro.specific.SpecificRecord> long copy(
            KafkaConfig kafka, Topic<V> from, Topic<V> to, String runId, Set<String> keys) {
        long n = 0;
        java.util.concurrent.atomic.AtomicLong acked = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicReference<Exception> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        RecordDecoder<V> decoder = new RecordDecoder<>(from);
        try (KafkaConsumer<byte[], byte[]> c =
                        new KafkaConsumer<>(Clients.consumer(kafka, "rescore-copy", null));
                KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(copyProducer(kafka))) {
            List<TopicPartition> tps = partitions(c, from.name());
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new CliException("copying " + from.name() + " took over 5 minutes");
                }
                for (ConsumerRecord<byte[], byte[]> rec : c.poll(Duration.ofMillis(200))) {
                    p.send(
                            new ProducerRecord<>(
                                    to.name(),
                                    rec.partition(),
                                    rec.timestamp(),
                                    rec.key(),
                                    rec.value(),
                                    rec.headers()),
                            (meta, ex) -> {
                                if (ex != null) {
                                    failure.compareAndSet(null, ex);
                                } else {
                                    acked.incrementAndGet();
                                }
                            });
                    n++;
                    if (keys != null && rec.key() != null) {
                        V v = decoder.value(rec);
                        if (v instanceof Completion comp && runId.equals(comp.getRunId())) {
                            keys.add(RecordDecoder.key(rec));
                        }
                    }
                }
            }
            p.flush();
        }
        if (failure.get() != null || acked.get() != n) {
            throw new CliException(
                    "copying "
                            + from.name()
                            + " into "
                            + to.name()
                            + " failed: "
                            + acked.get()
                            + " of "
                            + n
                            + " records acknowledged"
                            + (failure.get() == null ? "" : " (" + failure.get() + ")"),
                    failure.get());
        }
        return n;
    }

    /**
     * The copy's producer: ordered (one request in flight) but not idempotent. Against a topic
     * created a moment before, the idempotent producer was seen to loop on
     * OUT_OF_ORDER_SEQUENCE_NUMBER for one partition until the batch expired; a retried duplicate
     * is harmless here, since the topology counts each completion id and execution once.
     */
    private static Map<String, Object> copyProducer(KafkaConfig kafka) {
        Map<String, Object> p = new java.util.HashMap<>(Clients.producer(kafka, "rescore-copy"));
        p.put(org.apache.kafka.clients.producer.ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        p.put(
                org.apache.kafka.clients.producer.ProducerConfig
                        .MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
                1);
        return p;
    }

    /**
     * Waits until every partition of {@code topics} has a leader: producing into a topic created a
     * moment ago otherwise meets NOT_LEADER_OR_FOLLOWER and idempotence sequence errors.
     */
    private static void awaitLeaders(Admin admin, List<Topic<?>> topics) throws Exception {
        List<String> names = topics.stream().map(Topic::name).toList();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                Map<String, TopicDescription> d = admin.describeTopics(names).allTopicNames().get();
                if (d.values().stream()
                        .flatMap(t -> t.partitions().stream())
                        .allMatch(pi -> pi.leader() != null && !pi.leader().isEmpty())) {
                    return;
                }
            } catch (java.util.concurrent.ExecutionException e) {
                // not visible yet: retry until the deadline
            }
            if (System.nanoTime() > deadline) {
                throw new CliException("topics " + names + " have no leader after 60 s");
            }
            Thread.sleep(200);
        }
    }

    /**
     * Reads {@code topic} until every group id of {@code expected} has been emitted for the run.
     */
    private Map<String, AdvantageGroup> awaitGroups(
            KafkaConfig kafka,
            Topic<AdvantageGroup> topic,
            String runId,
            Set<String> expected,
            PrintWriter err) {
        Map<String, AdvantageGroup> seen = new TreeMap<>();
        RecordDecoder<AdvantageGroup> decoder = new RecordDecoder<>(topic);
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastSay = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(Clients.consumer(kafka, "rescore-await", null))) {
            List<TopicPartition> tps = partitions(c, topic.name());
            c.assign(tps);
            c.seekToBeginning(tps);
            while (!seen.keySet().containsAll(expected)) {
                if (System.nanoTime() > deadline) {
                    Set<String> missing = new HashSet<>(expected);
                    missing.removeAll(seen.keySet());
                    throw new CliException(
                            "only "
                                    + (expected.size() - missing.size())
                                    + " of "
                                    + expected.size()
                                    + " groups closed within "
                                    + timeout.toSeconds()
                                    + " s (e.g. "
                                    + missing.iterator().next()
                                    + "); raise --timeout, or lower advantages.groupDeadlineMs");
                }
                for (ConsumerRecord<byte[], byte[]> rec : c.poll(Duration.ofMillis(500))) {
                    AdvantageGroup g = decoder.value(rec);
                    if (runId.equals(g.getRunId())) {
                        seen.put(g.getGroupId(), g);
                    }
                }
                if (System.nanoTime() - lastSay > 10e9) {
                    err.printf(
                            Locale.ROOT,
                            "rescore: %d of %d groups closed%n",
                            seen.size(),
                            expected.size());
                    err.flush();
                    lastSay = System.nanoTime();
                }
            }
        }
        return seen;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary directory is harmless
        }
    }
}

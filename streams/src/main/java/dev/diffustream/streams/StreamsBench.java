package dev.diffustream.streams;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.TopicDef;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.SchemaRegistry;
import dev.diffustream.schemas.testing.Samples;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code diffustream bench streams}: the advantage topology on a real broker with exactly_once_v2
 * and realistic payloads (completions of K tokens with behaviour log-probs for I mask seeds), in
 * one run:
 *
 * <ol>
 *   <li>{@code raw_ceiling}: the same completion payloads produced to a topic and consumed
 *       (read_committed) without Streams — the broker's and clients' ceiling on this machine;
 *   <li>{@code throughput}: N completions and their executions produced as fast as possible through
 *       the topology, until every AdvantageGroup is visible to a read_committed consumer;
 *   <li>{@code latency}: at a steady rate (default 200 completions/s), the time from producing the
 *       last Execution of a group to its AdvantageGroup being visible, p50/p99.
 * </ol>
 *
 * Each phase uses fresh topics under its own prefix and its own application id; every result is
 * printed as one JSON line. Producers use the shared idempotent client settings ({@link
 * Clients#producer}).
 */
public final class StreamsBench {
    private static final Logger LOG = LoggerFactory.getLogger(StreamsBench.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What to run.
     *
     * @param completions completions in the raw and throughput phases
     * @param groupSize G
     * @param tokens K, completion tokens
     * @param iterations I, mask seeds (behaviour log-prob rows)
     * @param latencyRate completions per second in the latency phase
     * @param latencyDuration length of the latency phase
     * @param partitions partitions of the bench topics
     * @param advantages topology and Streams settings (applicationId and stateDir are derived)
     * @param workDir where state directories go (deleted afterwards)
     */
    public record Options(
            int completions,
            int groupSize,
            int tokens,
            int iterations,
            int latencyRate,
            Duration latencyDuration,
            int partitions,
            AdvantageConfig advantages,
            Path workDir) {

        public Options {
            if (completions < groupSize || groupSize < 2) {
                throw new IllegalArgumentException(
                        "bench needs groupSize >= 2 and completions >= groupSize, got "
                                + completions
                                + " and "
                                + groupSize);
            }
            if (latencyRate < 1 || partitions < 1 || tokens < 1 || iterations < 1) {
                throw new IllegalArgumentException(
                        "latencyRate, partitions, tokens and iterations must be >= 1");
            }
        }

        /** The setting: 20,000 completions, G = 10, K = 256, I = 2, 200/s for 30 s. */
        public static Options defaults(Path workDir) {
            return new Options(
                    20_000,
                    10,
                    256,
                    2,
                    200,
                    Duration.ofSeconds(30),
                    4,
                    AdvantageConfig.defaults(),
                    workDir);
        }
    }

    private StreamsBench() {}

    /**
     * Runs the three phases against a broker and registry and prints one JSON line per result.
     *
     * @return the results, in printed order
     */
    public static List<Map<String, Object>> run(
            KafkaConfig kafka, SchemaRegistry registry, Options o, PrintStream out)
            throws Exception {
        String runTag = Long.toString(System.currentTimeMillis(), 36);
        List<Map<String, Object>> results = new ArrayList<>();
        try (Admin admin = Admin.create(Clients.common(kafka, "bench-streams-admin"))) {
            Map<String, Object> raw = rawCeiling(kafka, registry, admin, o, runTag);
            emit(out, results, raw);
            Map<String, Object> throughput = throughput(kafka, registry, admin, o, runTag);
            double rawRate = (double) raw.get("completions_per_s");
            double rate = (double) throughput.get("completions_per_s");
            throughput.put("fraction_of_raw", round(rate / rawRate, 3));
            emit(out, results, throughput);
            Map<String, Object> latency = latency(kafka, registry, admin, o, runTag);
            emit(out, results, latency);
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("bench", "streams");
            summary.put("phase", "summary");
            summary.put("completions_per_s", rate);
            summary.put("fraction_of_raw", throughput.get("fraction_of_raw"));
            summary.put("p99_ms", latency.get("p99_ms"));
            summary.put("target_completions_per_s_met", rate >= 2_000);
            summary.put("target_fraction_of_raw_met", rate / rawRate >= 0.30);
            summary.put("target_p99_met", (double) latency.get("p99_ms") <= 1_500);
            emit(out, results, summary);
        }
        return results;
    }

    // ---------------------------------------------------------------- phases

    private static Map<String, Object> rawCeiling(
            KafkaConfig kafka, SchemaRegistry registry, Admin admin, Options o, String runTag)
            throws Exception {
        Topics topics = new Topics("bench-" + runTag + "-raw.", registry);
        Topic<Completion> topic = topics.completions();
        createTopics(admin, topics, o.partitions(), kafka.replicationFactor());
        int n = o.completions();
        AtomicLong bytes = new AtomicLong();
        try (Reader reader = new Reader(kafka, topic.name());
                KafkaProducer<byte[], byte[]> producer = producer(kafka, "bench-raw")) {
            reader.await(Duration.ofSeconds(30));
            // Warm-up (not timed): metadata, registry ids, JIT, partition leaders.
            for (int m = 0; m < o.groupSize(); m++) {
                Completion c =
                        Samples.completion(
                                "raw-warm", m, o.groupSize(), o.tokens(), o.iterations());
                producer.send(
                        new ProducerRecord<>(
                                topic.name(),
                                key("raw-warm"),
                                topic.valueSerde().serialize(topic.name(), c)));
            }
            producer.flush();
            reader.waitForRecords(o.groupSize(), Duration.ofMinutes(1));
            // Payloads are built before the clock starts: the phase times Kafka, not Samples.
            List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(n);
            for (int g = 0; g < n / o.groupSize(); g++) {
                String groupId = "raw-" + g;
                for (int m = 0; m < o.groupSize(); m++) {
                    Completion c =
                            Samples.completion(
                                    groupId, m, o.groupSize(), o.tokens(), o.iterations());
                    byte[] value = topic.valueSerde().serialize(topic.name(), c);
                    bytes.addAndGet(value.length);
                    records.add(new ProducerRecord<>(topic.name(), key(groupId), value));
                }
            }
            long t0 = System.nanoTime();
            for (ProducerRecord<byte[], byte[]> r : records) {
                producer.send(r);
            }
            producer.flush();
            int sent = n / o.groupSize() * o.groupSize();
            reader.waitForRecords(o.groupSize() + sent, Duration.ofMinutes(5));
            double seconds = (reader.lastNanos.get() - t0) / 1e9;
            Map<String, Object> r = header("raw_ceiling", o);
            r.put("completions", sent);
            r.put("seconds", round(seconds, 3));
            r.put("completions_per_s", round(sent / seconds, 1));
            r.put("mb_per_s", round(bytes.get() / 1e6 / seconds, 2));
            r.put("bytes_per_completion", bytes.get() / sent);
            return r;
        } finally {
            deleteTopics(admin, topics.prefix());
        }
    }

    private static Map<String, Object> throughput(
            KafkaConfig kafka, SchemaRegistry registry, Admin admin, Options o, String runTag)
            throws Exception {
        Phase phase = new Phase(kafka, registry, admin, o, runTag, "tput");
        try (phase) {
            int groups = o.completions() / o.groupSize();
            try (Reader reader = new Reader(kafka, phase.topics.advantages().name());
                    KafkaProducer<byte[], byte[]> producer = producer(kafka, "bench-tput")) {
                reader.await(Duration.ofSeconds(30));
                phase.warmUp(producer, reader);
                List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
                for (int g = 0; g < groups; g++) {
                    records.addAll(phase.groupRecords("tput-" + g));
                }
                long cpu0 = streamThreadsCpuNanos(phase.appId);
                long t0 = System.nanoTime();
                for (ProducerRecord<byte[], byte[]> r : records) {
                    producer.send(r);
                }
                producer.flush();
                reader.waitForRecords(1 + groups, Duration.ofMinutes(10));
                double seconds = (reader.lastNanos.get() - t0) / 1e9;
                long cpu = streamThreadsCpuNanos(phase.appId) - cpu0;
                Map<String, Object> r = header("throughput", o);
                r.put("completions", groups * o.groupSize());
                r.put("groups", groups);
                r.put("seconds", round(seconds, 3));
                r.put("completions_per_s", round(groups * o.groupSize() / seconds, 1));
                // CPU of the stream threads alone: comparable across runs on a shared machine.
                r.put("stream_thread_cpu_s", round(cpu / 1e9, 3));
                r.put(
                        "stream_thread_cpu_us_per_completion",
                        round(cpu / 1e3 / (groups * o.groupSize()), 1));
                return r;
            }
        }
    }

    private static Map<String, Object> latency(
            KafkaConfig kafka, SchemaRegistry registry, Admin admin, Options o, String runTag)
            throws Exception {
        Phase phase = new Phase(kafka, registry, admin, o, runTag, "lat");
        try (phase) {
            Map<String, Long> lastExecutionSent = new ConcurrentHashMap<>();
            List<Long> latencies = new ArrayList<>();
            int groups =
                    (int)
                            Math.max(
                                    1,
                                    o.latencyRate()
                                            * o.latencyDuration().toMillis()
                                            / 1000
                                            / o.groupSize());
            long periodNanos = TimeUnit.SECONDS.toNanos(1) * o.groupSize() / o.latencyRate();
            AvroReader<AdvantageGroup> decoder = new AvroReader<>(phase.topics.advantages());
            try (Reader reader =
                    new Reader(
                            kafka,
                            phase.topics.advantages().name(),
                            record -> {
                                long now = System.nanoTime();
                                String groupId = decoder.decode(record).getGroupId().toString();
                                Long sent = lastExecutionSent.get(groupId);
                                if (sent != null) {
                                    synchronized (latencies) {
                                        latencies.add(now - sent);
                                    }
                                }
                            })) {
                reader.await(Duration.ofSeconds(30));
                try (KafkaProducer<byte[], byte[]> producer = producer(kafka, "bench-lat")) {
                    phase.warmUp(producer, reader);
                    long next = System.nanoTime();
                    for (int g = 0; g < groups; g++) {
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                        next += periodNanos;
                        phase.sendGroup(producer, "lat-" + g, lastExecutionSent);
                        // Steady pace: each group is on the wire before the next one is due.
                        producer.flush();
                    }
                }
                reader.waitForRecords(1 + groups, Duration.ofMinutes(2));
            }
            long[] sorted;
            synchronized (latencies) {
                sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            }
            Map<String, Object> r = header("latency", o);
            r.put("rate_per_s", o.latencyRate());
            r.put("groups", sorted.length);
            r.put("p50_ms", round(percentile(sorted, 0.50) / 1e6, 1));
            r.put("p99_ms", round(percentile(sorted, 0.99) / 1e6, 1));
            r.put("max_ms", round(sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e6, 1));
            return r;
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Fresh topics and a running advantage service for one phase. */
    private static final class Phase implements AutoCloseable {
        final Topics topics;
        final Options o;
        final AdvantageService service;
        final Admin admin;
        final Path stateDir;
        final String appId;

        Phase(
                KafkaConfig kafka,
                SchemaRegistry registry,
                Admin admin,
                Options o,
                String runTag,
                String name)
                throws Exception {
            this.o = o;
            this.admin = admin;
            this.topics = new Topics("bench-" + runTag + "-" + name + ".", registry);
            createTopics(admin, topics, o.partitions(), kafka.replicationFactor());
            this.appId = "bench-" + runTag + "-" + name;
            this.stateDir = Files.createDirectories(o.workDir().resolve(appId));
            AdvantageConfig cfg =
                    o.advantages().toBuilder()
                            .applicationId(appId)
                            .stateDir(stateDir.toString())
                            .build();
            this.service = new AdvantageService(cfg, RewardWeights.defaults(), kafka, topics);
            service.start();
            if (!service.awaitRunning(Duration.ofSeconds(60))) {
                throw new IllegalStateException(
                        "advantage service did not reach RUNNING: " + service.state());
            }
        }

        /** Sends one group and waits for its AdvantageGroup (not timed). */
        void warmUp(KafkaProducer<byte[], byte[]> producer, Reader reader)
                throws InterruptedException {
            sendGroup(producer, "warm-up", null);
            producer.flush();
            reader.waitForRecords(1, Duration.ofMinutes(1));
        }

        /** One group's records: G completions, then G executions with varied outcomes. */
        List<ProducerRecord<byte[], byte[]>> groupRecords(String groupId) {
            Topic<Completion> cs = topics.completions();
            Topic<Execution> es = topics.executions();
            byte[] key = key(groupId);
            List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>(2 * o.groupSize());
            List<Completion> members = new ArrayList<>(o.groupSize());
            for (int m = 0; m < o.groupSize(); m++) {
                Completion c =
                        Samples.completion(groupId, m, o.groupSize(), o.tokens(), o.iterations());
                members.add(c);
                out.add(
                        new ProducerRecord<>(
                                cs.name(), key, cs.valueSerde().serialize(cs.name(), c)));
            }
            for (int m = 0; m < o.groupSize(); m++) {
                int passed = m % 3;
                Outcome outcome =
                        passed == 2
                                ? Outcome.PASSED
                                : passed == 1 ? Outcome.PARTIAL : Outcome.FAILED;
                Execution e = Samples.execution(members.get(m), outcome, passed);
                out.add(
                        new ProducerRecord<>(
                                es.name(), key, es.valueSerde().serialize(es.name(), e)));
            }
            return out;
        }

        /**
         * Sends one group, recording (if {@code sentAt} is given) the time just before its last
         * execution is handed to the producer.
         */
        void sendGroup(
                KafkaProducer<byte[], byte[]> producer, String groupId, Map<String, Long> sentAt) {
            List<ProducerRecord<byte[], byte[]>> records = groupRecords(groupId);
            for (int i = 0; i < records.size(); i++) {
                if (i == records.size() - 1 && sentAt != null) {
                    sentAt.put(groupId, System.nanoTime());
                }
                producer.send(records.get(i));
            }
        }

        @Override
        public void close() {
            service.close(Duration.ofSeconds(30));
            deleteTopics(admin, topics.prefix());
            deleteTopics(admin, appId + "-");
            deleteRecursively(stateDir);
        }
    }

    /** Decodes values of one topic. */
    private record AvroReader<V extends SpecificRecord>(Topic<V> topic) {
        V decode(ConsumerRecord<byte[], byte[]> record) {
            return topic.valueSerde().deserialize(record.topic(), record.value());
        }
    }

    /** A read_committed consumer of every partition of a topic, on its own thread. */
    private static final class Reader implements AutoCloseable {
        final AtomicLong count = new AtomicLong();
        final AtomicLong lastNanos = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Thread thread;
        private volatile boolean running = true;
        private volatile boolean assigned;

        Reader(KafkaConfig kafka, String topic) {
            this(kafka, topic, r -> {});
        }

        Reader(KafkaConfig kafka, String topic, Consumer<ConsumerRecord<byte[], byte[]>> onRecord) {
            Map<String, Object> props = Clients.consumer(kafka, "bench-reader", null);
            // Large payloads: fetch more per round trip than the 1 MB partition default.
            props.put("max.partition.fetch.bytes", 8 * 1024 * 1024);
            this.thread =
                    new Thread(
                            () -> {
                                try (KafkaConsumer<byte[], byte[]> consumer =
                                        new KafkaConsumer<>(props)) {
                                    List<TopicPartition> parts = new ArrayList<>();
                                    for (PartitionInfo p :
                                            consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                                        parts.add(new TopicPartition(topic, p.partition()));
                                    }
                                    consumer.assign(parts);
                                    consumer.seekToBeginning(parts);
                                    parts.forEach(consumer::position);
                                    assigned = true;
                                    while (running) {
                                        for (ConsumerRecord<byte[], byte[]> r :
                                                consumer.poll(Duration.ofMillis(20))) {
                                            onRecord.accept(r);
                                            count.incrementAndGet();
                                            lastNanos.set(System.nanoTime());
                                        }
                                    }
                                } catch (Throwable t) {
                                    failure.set(t);
                                }
                            },
                            "bench-reader-" + topic);
            thread.setDaemon(true);
            thread.start();
        }

        void await(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!assigned && failure.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            check();
        }

        void waitForRecords(long n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (count.get() < n && System.nanoTime() < deadline) {
                check();
                Thread.sleep(5);
            }
            check();
            if (count.get() < n) {
                throw new IllegalStateException(
                        "bench: only "
                                + count.get()
                                + " of "
                                + n
                                + " records arrived in "
                                + timeout);
            }
        }

        private void check() {
            if (failure.get() != null) {
                throw new IllegalStateException("bench reader failed", failure.get());
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(5_000);
        }
    }

    /** CPU time consumed so far by the stream threads of an application in this JVM. */
    private static long streamThreadsCpuNanos(String appId) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null
                    && info.getThreadName().startsWith(appId)
                    && info.getThreadName().contains("StreamThread")
                    && !info.getThreadName().contains("producer")) {
                total += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
            }
        }
        return total;
    }

    private static KafkaProducer<byte[], byte[]> producer(KafkaConfig kafka, String clientId) {
        Map<String, Object> props = Clients.producer(kafka, clientId);
        // A 4 KB completion per record: larger batches than the 16 KB default.
        props.put("batch.size", 256 * 1024);
        return new KafkaProducer<>(props);
    }

    private static void createTopics(Admin admin, Topics topics, int partitions, short rf)
            throws ExecutionException, InterruptedException, TimeoutException {
        List<NewTopic> list = new ArrayList<>();
        for (TopicDef<?> def : Topics.ALL) {
            list.add(
                    new NewTopic(
                                    def.name(topics.prefix()),
                                    def.singlePartition() ? 1 : partitions,
                                    rf)
                            .configs(def.configs()));
        }
        admin.createTopics(list).all().get(60, TimeUnit.SECONDS);
    }

    private static void deleteTopics(Admin admin, String prefix) {
        try {
            List<String> names =
                    admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
                            .filter(t -> t.startsWith(prefix))
                            .toList();
            if (!names.isEmpty()) {
                admin.deleteTopics(names).all().get(60, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            LOG.warn("bench: could not delete topics {}*: {}", prefix, e.toString());
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] key(String groupId) {
        return groupId.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, Object> header(String phase, Options o) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bench", "streams");
        r.put("phase", phase);
        r.put("group_size", o.groupSize());
        r.put("tokens", o.tokens());
        r.put("mask_seeds", o.iterations());
        r.put("partitions", o.partitions());
        r.put("commit_interval_ms", o.advantages().commitIntervalMs());
        r.put("cache_max_bytes", o.advantages().cacheMaxBytes());
        r.put("store_type", o.advantages().storeType().name().toLowerCase(Locale.ROOT));
        return r;
    }

    private static double percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static void emit(
            PrintStream out, List<Map<String, Object>> results, Map<String, Object> r)
            throws JsonProcessingException {
        results.add(r);
        out.println(JSON.writeValueAsString(r));
        out.flush();
    }
}

package dev.diffustream.cli;

import dev.diffustream.infra.TopicBootstrap;
import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.TopicDef;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.SchemaRegistry;
import dev.diffustream.schemas.serde.AvroJson;
import dev.diffustream.schemas.serde.RecordDecoder;
import dev.diffustream.schemas.serde.UndecodableRecordException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code diffustream topics list|create|produce|consume}: the run's topics by hand. */
@Command(
        name = "topics",
        description = "List, create, write to and read from the run's topics.",
        subcommands = {
            TopicsCommand.ListTopics.class,
            TopicsCommand.CreateTopics.class,
            TopicsCommand.Produce.class,
            TopicsCommand.Consume.class,
        })
final class TopicsCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A topic given by base name ({@code tasks}) or full name ({@code run7.tasks}). */
    static TopicDef<?> resolve(String name, String prefix) {
        return Topics.byBaseName(name)
                .or(
                        () ->
                                prefix.isEmpty() || !name.startsWith(prefix)
                                        ? java.util.Optional.empty()
                                        : Topics.byBaseName(name.substring(prefix.length())))
                .orElseGet(() -> Topics.require(name)); // throws, listing the known topics
    }

    /**
     * The record key of a value: the field its topic is keyed by ({@link TopicDef#keyDoc()}), or a
     * dead letter's original key; null if there is none.
     */
    static byte[] keyOf(TopicDef<?> def, SpecificRecord value) {
        Schema.Field field = value.getSchema().getField(def.keyDoc());
        if (field == null) {
            field = value.getSchema().getField("key");
        }
        if (field == null) {
            return null;
        }
        Object key = value.get(field.pos());
        if (key == null) {
            return null;
        }
        if (key instanceof ByteBuffer b) {
            ByteBuffer copy = b.duplicate();
            byte[] out = new byte[copy.remaining()];
            copy.get(out);
            return out;
        }
        return key.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Command(
            name = "list",
            description = "The run's topics: partitions, records, key, value type, writer.")
    static final class ListTopics implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(
                names = "--timeout",
                defaultValue = "10s",
                converter = DurationConverter.class,
                description = "How long to wait for Kafka (default ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        public Integer call() {
            KafkaConfig kafka = Main.of(spec).recipe().kafka();
            PrintWriter out = spec.commandLine().getOut();
            try (KafkaAccess access = new KafkaAccess(kafka, timeout)) {
                Set<String> existing = access.topicNames();
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"TOPIC", "PARTITIONS", "RECORDS", "KEY", "VALUE", "WRITER"});
                for (TopicDef<?> def : Topics.ALL) {
                    String name = def.name(kafka.topicPrefix());
                    String partitions = "missing";
                    String records = "-";
                    if (existing.contains(name)) {
                        TopicDescription d = access.describe(name);
                        partitions = Integer.toString(d.partitions().size());
                        records = Long.toString(records(access, d));
                    }
                    rows.add(
                            new String[] {
                                name,
                                partitions,
                                records,
                                def.keyDoc(),
                                def.valueType().getSimpleName(),
                                def.writer()
                            });
                }
                print(out, rows);
            }
            return 0;
        }

        private static long records(KafkaAccess access, TopicDescription d) {
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            d.partitions()
                    .forEach(
                            p -> {
                                TopicPartition tp = new TopicPartition(d.name(), p.partition());
                                earliest.put(tp, OffsetSpec.earliest());
                                latest.put(tp, OffsetSpec.latest());
                            });
            Map<TopicPartition, ListOffsetsResultInfo> from =
                    access.get(access.admin().listOffsets(earliest).all(), "reading offsets");
            Map<TopicPartition, ListOffsetsResultInfo> to =
                    access.get(access.admin().listOffsets(latest).all(), "reading offsets");
            long n = 0;
            for (TopicPartition tp : to.keySet()) {
                n += to.get(tp).offset() - from.get(tp).offset();
            }
            return n;
        }

        private static void print(PrintWriter out, List<String[]> rows) {
            int[] width = new int[rows.get(0).length];
            for (String[] r : rows) {
                for (int i = 0; i < r.length; i++) {
                    width[i] = Math.max(width[i], r[i].length());
                }
            }
            for (String[] r : rows) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < r.length; i++) {
                    sb.append(
                            i == r.length - 1
                                    ? r[i]
                                    : String.format("%-" + (width[i] + 2) + "s", r[i]));
                }
                out.println(sb.toString().stripTrailing());
            }
            out.flush();
        }
    }

    @Command(
            name = "create",
            description =
                    "Creates the run's topics that do not exist yet (partitions, retention and compaction from the recipe).")
    static final class CreateTopics implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(
                names = "--timeout",
                defaultValue = "30s",
                converter = DurationConverter.class,
                description = "How long to wait for Kafka (default ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        public Integer call() {
            KafkaConfig kafka = Main.of(spec).recipe().kafka();
            try (KafkaAccess access = new KafkaAccess(kafka, timeout)) {
                access.topicNames(); // fails fast, naming the address, if Kafka is unreachable
                TopicBootstrap.Result r = TopicBootstrap.ensure(access.admin(), kafka, timeout);
                PrintWriter out = spec.commandLine().getOut();
                out.println(
                        "created "
                                + r.created().size()
                                + " topic(s)"
                                + (r.created().isEmpty()
                                        ? ""
                                        : ": " + String.join(", ", r.created())));
                out.println("already there: " + r.existing().size());
                out.flush();
            }
            return 0;
        }
    }

    @Command(
            name = "produce",
            description = {
                "Sends JSON lines (Avro's JSON encoding, one record per line) to a topic as registered Avro records.",
                "Reads standard input unless --file is given. A bad line is reported with its number and field and not"
                        + " sent; the others are sent. Exit code 1 if any line was rejected."
            })
    static final class Produce implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Parameters(
                index = "0",
                paramLabel = "TOPIC",
                description = "Topic base name (e.g. tasks) or full name.")
        String topic;

        @Option(
                names = "--file",
                paramLabel = "FILE",
                description = "Read the JSON lines from FILE.")
        Path file;

        @Option(
                names = "--timeout",
                defaultValue = "30s",
                converter = DurationConverter.class,
                description = "How long to wait for Kafka (default ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public Integer call() throws IOException {
            KafkaConfig kafka = Main.of(spec).recipe().kafka();
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            TopicDef<?> def = resolve(topic, kafka.topicPrefix());
            String name = def.name(kafka.topicPrefix());
            try (KafkaAccess access = new KafkaAccess(kafka, timeout)) {
                access.describe(name);
            }
            SchemaRegistry registry = Clients.registry(kafka);
            Topic bound = new Topics(kafka.topicPrefix(), registry).bind(def);
            AvroJsonReader<?> reader = new AvroJsonReader<>(def.valueType());

            Map<String, Object> props = Clients.producer(kafka, "diffustream-cli-produce");
            int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
            // A tool gives up within its timeout rather than the default minute.
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, ms);
            props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Math.max(ms, 1000));
            props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(ms, 10_000));
            List<Integer> rejected = new ArrayList<>();
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            try (BufferedReader in = open();
                    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
                String line;
                int number = 0;
                while ((line = in.readLine()) != null) {
                    number++;
                    if (line.isBlank()) {
                        continue;
                    }
                    SpecificRecord record;
                    try {
                        record = reader.read(line);
                    } catch (AvroJsonReader.InvalidRecord e) {
                        err.println("line " + number + ": " + e.getMessage());
                        rejected.add(number);
                        continue;
                    }
                    // Registers the schema on first use: a 409 from the registry stops here.
                    byte[] value = bound.valueSerde().serialize(name, record);
                    acks.add(producer.send(new ProducerRecord<>(name, keyOf(def, record), value)));
                }
                producer.flush();
            }
            for (Future<RecordMetadata> ack : acks) {
                try {
                    ack.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                    throw new CliException(
                            "sending to '"
                                    + name
                                    + "' on "
                                    + kafka.bootstrap()
                                    + " failed: "
                                    + cause.getMessage(),
                            cause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CliException("interrupted while sending");
                }
            }
            out.println(
                    "sent "
                            + acks.size()
                            + " record(s) to "
                            + name
                            + (rejected.isEmpty()
                                    ? ""
                                    : "; rejected " + rejected.size() + " line(s): " + rejected));
            out.flush();
            err.flush();
            return rejected.isEmpty() ? 0 : 1;
        }

        private BufferedReader open() throws IOException {
            if (file == null) {
                return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            }
            try {
                return Files.newBufferedReader(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new CliException("--file " + file + ": no such file");
            }
        }
    }

    @Command(
            name = "consume",
            description =
                    "Prints a topic's records as JSON lines (Avro's JSON encoding), one per line, on standard output.")
    static final class Consume implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Parameters(
                index = "0",
                paramLabel = "TOPIC",
                description = "Topic base name (e.g. tasks) or full name.")
        String topic;

        @Option(
                names = "--from-beginning",
                description = "Start at the oldest record (default: only new records).")
        boolean fromBeginning;

        @Option(names = "--max", paramLabel = "N", description = "Stop after N records.")
        Long max;

        @Option(
                names = "--timeout",
                paramLabel = "DURATION",
                converter = DurationConverter.class,
                description =
                        "Stop when no record arrived for this long (e.g. 5s); default: run until interrupted.")
        Duration timeout;

        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public Integer call() {
            KafkaConfig kafka = Main.of(spec).recipe().kafka();
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            TopicDef<?> def = resolve(topic, kafka.topicPrefix());
            String name = def.name(kafka.topicPrefix());
            TopicDescription description;
            try (KafkaAccess access =
                    new KafkaAccess(kafka, timeout == null ? Duration.ofSeconds(10) : timeout)) {
                description = access.describe(name);
            }
            Topic bound = new Topics(kafka.topicPrefix(), Clients.registry(kafka)).bind(def);
            RecordDecoder<?> decoder = new RecordDecoder<>(bound);
            long count = 0;
            long skipped = 0;
            try (KafkaConsumer<byte[], byte[]> consumer =
                    new KafkaConsumer<>(Clients.consumer(kafka, "diffustream-cli-consume", null))) {
                List<TopicPartition> partitions = new ArrayList<>();
                description
                        .partitions()
                        .forEach(p -> partitions.add(new TopicPartition(name, p.partition())));
                consumer.assign(partitions);
                if (fromBeginning) {
                    consumer.seekToBeginning(partitions);
                } else {
                    consumer.seekToEnd(partitions);
                    partitions.forEach(
                            consumer::position); // fix the start now, not at the first poll
                }
                long lastRecord = System.nanoTime();
                while (max == null || count < max) {
                    boolean any = false;
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        any = true;
                        try {
                            out.println(AvroJson.toJson(decoder.value(r)));
                            count++;
                        } catch (UndecodableRecordException e) {
                            err.println("skipped: " + e.getMessage());
                            skipped++;
                        }
                        if (max != null && count >= max) {
                            break;
                        }
                    }
                    out.flush();
                    if (any) {
                        lastRecord = System.nanoTime();
                    } else if (timeout != null
                            && System.nanoTime() - lastRecord > timeout.toNanos()) {
                        break;
                    }
                }
            }
            err.println(
                    "consumed "
                            + count
                            + " record(s) from "
                            + name
                            + (skipped == 0 ? "" : ", skipped " + skipped + " undecodable"));
            err.flush();
            return 0;
        }
    }
}

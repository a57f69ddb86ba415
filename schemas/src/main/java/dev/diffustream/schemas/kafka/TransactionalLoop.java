package dev.diffustream.schemas.kafka;

import dev.diffustream.schemas.telemetry.Telemetry;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exactly-once read-process-write loop (STYLE rule 5, after Kafka's {@code
 * ExactlyOnceMessageProcessor}): poll raw records (read_committed), let the handler produce its
 * output records, send the consumed offsets into the same transaction, commit. A crash or an abort
 * rewinds to the last committed offsets, so every input contributes to exactly one committed output
 * or to none.
 *
 * <p>Exceptions are classified by {@link KafkaErrors}: fatal ones stop the loop (and are rethrown
 * from {@link #run()}), offset errors seek, everything else aborts the transaction, rewinds and
 * retries with exponential backoff. A handler parks a record it cannot process with {@link
 * Output#deadLetter}, inside the transaction, so a poison record is skipped exactly once.
 */
public final class TransactionalLoop implements Runnable, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionalLoop.class);

    /** Processes one polled batch inside an open transaction. */
    @FunctionalInterface
    public interface Handler {
        void handle(ConsumerRecords<byte[], byte[]> records, Output out) throws Exception;
    }

    /** Where a handler sends its output, inside the current transaction. */
    public interface Output {
        void send(ProducerRecord<byte[], byte[]> record);

        void deadLetter(ConsumerRecord<byte[], byte[]> record, Throwable error);

        /** The transactional producer (for callers that need more than send). */
        Producer<byte[], byte[]> producer();
    }

    /** Settings of a loop. */
    public record Settings(
            Map<String, Object> consumerProps,
            Map<String, Object> producerProps,
            Collection<String> topics,
            Duration pollTimeout,
            Duration maxBackoff,
            String name) {}

    private final Settings settings;
    private final Handler handler;
    private final DeadLetters deadLetters;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private volatile Runnable idleHook = () -> {};

    public TransactionalLoop(Settings settings, Handler handler, DeadLetters deadLetters) {
        this.settings = Objects.requireNonNull(settings);
        this.handler = Objects.requireNonNull(handler);
        this.deadLetters = deadLetters;
    }

    /** Runs something on the loop thread whenever a poll returns nothing (e.g. metrics). */
    public TransactionalLoop onIdle(Runnable hook) {
        this.idleHook = hook;
        return this;
    }

    @Override
    public void run() {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(settings.consumerProps());
                KafkaProducer<byte[], byte[]> producer =
                        new KafkaProducer<>(settings.producerProps());
                Telemetry.Binding cm = Telemetry.global().bindKafkaClient(c);
                Telemetry.Binding pm = Telemetry.global().bindKafkaClient(producer)) {
            this.consumer = c;
            producer.initTransactions();
            c.subscribe(List.copyOf(settings.topics()));
            long backoffMs = 100;
            while (running.get()) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = c.poll(settings.pollTimeout());
                } catch (WakeupException e) {
                    break;
                }
                if (records.isEmpty()) {
                    idleHook.run();
                    continue;
                }
                try {
                    producer.beginTransaction();
                    handler.handle(records, output(producer));
                    producer.sendOffsetsToTransaction(nextOffsets(records), c.groupMetadata());
                    producer.commitTransaction();
                    backoffMs = 100;
                } catch (WakeupException e) {
                    abortQuietly(producer);
                    break;
                } catch (InterruptedException e) {
                    abortQuietly(producer);
                    Thread.currentThread().interrupt();
                    break;
                } catch (Exception e) {
                    KafkaErrors.Action action = KafkaErrors.classify(e);
                    if (action == KafkaErrors.Action.FATAL) {
                        LOG.error("{}: fatal error, stopping: {}", settings.name(), e.toString());
                        throw new IllegalStateException(
                                settings.name() + " stopped on a fatal Kafka error: " + e, e);
                    }
                    abortQuietly(producer);
                    rewind(c, records.partitions());
                    LOG.warn(
                            "{}: transaction aborted ({}), retrying in {} ms",
                            settings.name(),
                            e.toString(),
                            backoffMs);
                    sleep(backoffMs);
                    backoffMs = Math.min(backoffMs * 2, settings.maxBackoff().toMillis());
                }
            }
        } finally {
            stopped.countDown();
        }
    }

    private Output output(Producer<byte[], byte[]> producer) {
        return new Output() {
            @Override
            public void send(ProducerRecord<byte[], byte[]> record) {
                producer.send(record);
            }

            @Override
            public void deadLetter(ConsumerRecord<byte[], byte[]> record, Throwable error) {
                LOG.warn(
                        "{}: dead-lettering {}-{}@{}: {}",
                        settings.name(),
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        error.toString());
                if (deadLetters == null) {
                    throw new IllegalStateException("no dead-letter topic configured", error);
                }
                deadLetters.send(producer, record, error);
            }

            @Override
            public Producer<byte[], byte[]> producer() {
                return producer;
            }
        };
    }

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(
            ConsumerRecords<byte[], byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> list = records.records(tp);
            out.put(tp, new OffsetAndMetadata(list.get(list.size() - 1).offset() + 1));
        }
        return out;
    }

    /** Moves the consumer back to the last committed offsets of these partitions. */
    private void rewind(KafkaConsumer<byte[], byte[]> c, Set<TopicPartition> partitions) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = c.committed(partitions);
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata om = committed.get(tp);
                if (om != null) {
                    c.seek(tp, om);
                } else {
                    c.seekToBeginning(List.of(tp));
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: rewind failed ({}); re-subscribing", settings.name(), e.toString());
            c.unsubscribe();
            c.subscribe(List.copyOf(settings.topics()));
        }
    }

    private void abortQuietly(Producer<byte[], byte[]> producer) {
        try {
            producer.abortTransaction();
        } catch (RuntimeException e) {
            LOG.debug("{}: abort failed: {}", settings.name(), e.toString());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Asks the loop to stop after the current transaction; does not wait. */
    public void stop() {
        running.set(false);
    }

    /** Stops the loop (the current transaction completes or aborts) and waits for it. */
    @Override
    public void close() {
        running.set(false);
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

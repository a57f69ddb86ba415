package dev.diffustream.infra;

import dev.diffustream.schemas.TopicDef;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates every topic of {@link Topics#ALL} under a run's prefix, with the partitions and
 * replication factor of its {@link KafkaConfig} ({@link TopicDef#singlePartition()} topics get one
 * partition) and the topic configs of its {@link TopicDef}. Idempotent: existing topics are kept.
 *
 * <p>The co-partitioned topics (completions, executions, advantages) must all have {@code
 * kafka.partitions} partitions; an existing one that does not fails the bootstrap before anything
 * is created.
 */
public final class TopicBootstrap {

    private TopicBootstrap() {}

    /** One topic to create. */
    public record TopicSpec(
            String name,
            int partitions,
            short replicationFactor,
            Map<String, String> configs,
            boolean coPartitioned) {}

    /** What {@link #ensure} did. */
    public record Result(List<String> created, List<String> existing) {}

    /** The topics of a run, in pipeline order. */
    public static List<TopicSpec> plan(KafkaConfig kafka) {
        List<TopicSpec> out = new ArrayList<>();
        for (TopicDef<?> def : Topics.ALL) {
            out.add(
                    new TopicSpec(
                            def.name(kafka.topicPrefix()),
                            def.singlePartition() ? 1 : kafka.partitions(),
                            kafka.replicationFactor(),
                            def.configs(),
                            def.coPartitioned()));
        }
        return out;
    }

    /** Creates the run's topics that do not exist yet. */
    public static Result ensure(Admin admin, KafkaConfig kafka, Duration timeout) {
        return ensure(admin, plan(kafka), timeout);
    }

    /**
     * Creates the topics of {@code specs} that do not exist yet.
     *
     * @throws IllegalStateException if an existing co-partitioned topic has another partition count
     *     than planned (naming every such topic and count), or if the cluster refuses a topic (e.g.
     *     a replication factor larger than the number of brokers)
     */
    public static Result ensure(Admin admin, List<TopicSpec> specs, Duration timeout) {
        Set<String> names = specs.stream().map(TopicSpec::name).collect(Collectors.toSet());
        Set<String> existing;
        try {
            existing = new java.util.HashSet<>(get(admin.listTopics().names(), timeout));
        } catch (TimeoutException e) {
            throw new IllegalStateException(
                    "Kafka did not answer within "
                            + timeout.toSeconds()
                            + " s while listing topics. Check that the broker is running and that"
                            + " the bootstrap address is right.",
                    e);
        }
        existing.retainAll(names);

        checkCoPartitioning(admin, specs, existing, timeout);

        List<NewTopic> toCreate = new ArrayList<>();
        for (TopicSpec spec : specs) {
            if (!existing.contains(spec.name())) {
                toCreate.add(
                        new NewTopic(spec.name(), spec.partitions(), spec.replicationFactor())
                                .configs(spec.configs()));
            }
        }
        List<String> created = new ArrayList<>();
        List<String> already = new ArrayList<>(existing);
        if (!toCreate.isEmpty()) {
            Map<String, KafkaFuture<Void>> futures = admin.createTopics(toCreate).values();
            for (Map.Entry<String, KafkaFuture<Void>> f : futures.entrySet()) {
                try {
                    f.getValue().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    created.add(f.getKey());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicExistsException) {
                        already.add(f.getKey()); // created concurrently by another process
                    } else {
                        throw new IllegalStateException(
                                "cannot create topic '"
                                        + f.getKey()
                                        + "': "
                                        + e.getCause().getMessage()
                                        + " (check kafka.replicationFactor against the number of"
                                        + " brokers, and the topic configs)",
                                e.getCause());
                    }
                } catch (TimeoutException e) {
                    throw new IllegalStateException(
                            "Kafka did not confirm the creation of topic '"
                                    + f.getKey()
                                    + "' within "
                                    + timeout.toSeconds()
                                    + " s",
                            e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while creating topics", e);
                }
            }
            // A second run may have created some of the co-partitioned topics concurrently.
            checkCoPartitioning(admin, specs, new java.util.HashSet<>(already), timeout);
        }
        return new Result(List.copyOf(created), List.copyOf(already));
    }

    private static void checkCoPartitioning(
            Admin admin, List<TopicSpec> specs, Set<String> existing, Duration timeout) {
        List<TopicSpec> co =
                specs.stream()
                        .filter(s -> s.coPartitioned() && existing.contains(s.name()))
                        .toList();
        if (co.isEmpty()) {
            return;
        }
        Map<String, TopicDescription> described;
        try {
            described =
                    get(
                            admin.describeTopics(co.stream().map(TopicSpec::name).toList())
                                    .allTopicNames(),
                            timeout);
        } catch (TimeoutException e) {
            throw new IllegalStateException(
                    "Kafka did not describe topics within " + timeout.toSeconds() + " s", e);
        }
        Map<String, Integer> wrong = new LinkedHashMap<>();
        for (TopicSpec s : co) {
            int actual = described.get(s.name()).partitions().size();
            if (actual != s.partitions()) {
                wrong.put(s.name(), actual);
            }
        }
        if (!wrong.isEmpty()) {
            int planned = co.get(0).partitions();
            throw new IllegalStateException(
                    "co-partitioned topics must all have kafka.partitions="
                            + planned
                            + " partitions, but existing "
                            + wrong.entrySet().stream()
                                    .map(e -> "'" + e.getKey() + "' has " + e.getValue())
                                    .collect(Collectors.joining(", "))
                            + ". Set kafka.partitions to match, or delete these topics (or use"
                            + " another kafka.topicPrefix).");
        }
    }

    private static <T> T get(KafkaFuture<T> future, Duration timeout) throws TimeoutException {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                TimeoutException t = new TimeoutException(cause.getMessage());
                t.initCause(cause);
                throw t;
            }
            throw new IllegalStateException("Kafka admin call failed: " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while talking to Kafka", e);
        }
    }
}

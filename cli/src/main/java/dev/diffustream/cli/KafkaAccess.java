package dev.diffustream.cli;

import dev.diffustream.schemas.TopicDef;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.SchemaRegistry;
import dev.diffustream.schemas.registry.SchemaRegistryException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;

/**
 * Admin access for command-line tools, failing fast with messages that name the address tried and
 * what to check, instead of the clients' default minute of retries.
 */
final class KafkaAccess implements AutoCloseable {

    private final KafkaConfig kafka;
    private final Duration timeout;
    private final Admin admin;

    KafkaAccess(KafkaConfig kafka, Duration timeout) {
        this.kafka = kafka;
        this.timeout = timeout;
        Map<String, Object> p = Clients.common(kafka, "diffustream-cli-admin");
        int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        // A tool should answer within its timeout, not retry for the default minute.
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(ms, 10_000));
        this.admin = Admin.create(p);
    }

    Admin admin() {
        return admin;
    }

    /** The names of all topics, or a {@link CliException} saying the broker is unreachable. */
    Set<String> topicNames() {
        return get(admin.listTopics().names(), "listing topics");
    }

    /** Describes an existing topic; a {@link CliException} if it does not exist. */
    TopicDescription describe(String topic) {
        if (!topicNames().contains(topic)) {
            throw new CliException(
                    "topic '"
                            + topic
                            + "' does not exist on "
                            + kafka.bootstrap()
                            + ". Create the run's topics with 'diffustream topics create' (or start"
                            + " 'diffustream infra'), and check --prefix / kafka.topicPrefix.");
        }
        return get(admin.describeTopics(Set.of(topic)).allTopicNames(), "describing " + topic)
                .get(topic);
    }

    <T> T get(KafkaFuture<T> future, String what) {
        try {
            return future.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unreachable(kafka, timeout);
            }
            throw new CliException(
                    "Kafka at "
                            + kafka.bootstrap()
                            + " failed "
                            + what
                            + ": "
                            + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw unreachable(kafka, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted while " + what);
        }
    }

    /**
     * A service's start-up check: waits up to {@code timeout} for the broker and then requires
     * every topic of the run ({@code topics create} makes them). Without it a service facing a
     * wrong address logged a connection warning twice a second and failed a minute later with a
     * bare client {@code TimeoutException}, or, for the actor and the topology, never failed. The
     * clients' network warnings are held back while it waits; the failure says what to do.
     *
     * @throws CliException naming the address and what to check, or the missing topics
     */
    static void awaitRunTopics(
            String service, KafkaConfig kafka, Duration timeout, PrintWriter err) {
        Duration first = timeout.compareTo(FIRST_TRY) < 0 ? timeout : FIRST_TRY;
        Set<String> names;
        try (Main.Logs.Quiet q = Main.Logs.quietKafkaNetwork()) {
            try (KafkaAccess access = new KafkaAccess(kafka, first)) {
                names = access.topicNames();
            } catch (CliException e) {
                if (first.equals(timeout)) {
                    throw e;
                }
                err.printf(
                        "%s: waiting for Kafka at %s (up to %d s)%n",
                        service, kafka.bootstrap(), timeout.toSeconds());
                err.flush();
                try (KafkaAccess access = new KafkaAccess(kafka, timeout.minus(first))) {
                    names = access.topicNames();
                } catch (CliException again) {
                    throw unreachable(kafka, timeout);
                }
            }
        }
        List<String> missing = new ArrayList<>();
        for (TopicDef<?> def : Topics.ALL) {
            String name = def.name(kafka.topicPrefix());
            if (!names.contains(name)) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            throw new CliException(
                    "the run's topics "
                            + missing
                            + " do not exist on "
                            + kafka.bootstrap()
                            + ". Create them with 'diffustream topics create' and the same"
                            + " recipe and --prefix (kafka.topicPrefix '"
                            + kafka.topicPrefix()
                            + "'), or start './diffustream infra'.");
        }
    }

    /**
     * A service's start-up check: {@link #awaitRunTopics}, then one request to the schema registry,
     * so that a wrong registry address stops the service at start rather than at its first record.
     *
     * @throws CliException naming what is unreachable or missing and what to check
     */
    static void preflight(String service, KafkaConfig kafka, Duration timeout, PrintWriter err) {
        awaitRunTopics(service, kafka, timeout, err);
        try (SchemaRegistry registry = Clients.registry(kafka)) {
            registry.subjects();
        } catch (SchemaRegistryException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    /** How long a service waits for the broker at start ({@link #awaitRunTopics}). */
    static final Duration SERVICE_WAIT = Duration.ofSeconds(60);

    /** How long the first, silent attempt of {@link #awaitRunTopics} waits. */
    private static final Duration FIRST_TRY = Duration.ofSeconds(5);

    static CliException unreachable(KafkaConfig kafka, Duration timeout) {
        return new CliException(
                "Kafka broker unreachable at "
                        + kafka.bootstrap()
                        + " (no answer within "
                        + timeout.toSeconds()
                        + " s). Check that it is running (e.g. './diffustream infra') and that"
                        + " --bootstrap / kafka.bootstrap is right.");
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(2));
    }
}

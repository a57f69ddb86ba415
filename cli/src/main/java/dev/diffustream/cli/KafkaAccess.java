package dev.diffustream.cli;

import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import java.time.Duration;
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

package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.cli.MainTest.Result;
import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.schemas.config.KafkaConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The services' start-up check against the real broker: reachable, and the run's topics exist. */
class KafkaPreflightIT {

    @Test
    void shouldNameTheMissingTopicsAndPassOnceTheyExist() {
        // given a reachable broker and a run prefix without topics
        TestCluster cluster = TestCluster.shared();
        KafkaConfig kafka = cluster.newKafkaConfig("preflight");
        StringWriter err = new StringWriter();

        // then the check names every missing topic and how to create them
        assertThatThrownBy(() -> check(kafka, err))
                .isInstanceOf(CliException.class)
                .hasMessageContaining(kafka.topicPrefix() + "tasks")
                .hasMessageContaining(kafka.topicPrefix() + "dead-letters")
                .hasMessageContaining("diffustream topics create")
                .hasMessageContaining(kafka.bootstrap());

        // and a service started on it stops with that message, before loading anything
        Result feed =
                MainTest.run(
                        "feed",
                        "--bootstrap",
                        kafka.bootstrap(),
                        "--registry",
                        kafka.registry(),
                        "--prefix",
                        kafka.topicPrefix());
        assertThat(feed.code()).isEqualTo(1);
        assertThat(feed.err())
                .contains("diffustream: the run's topics [")
                .contains("topics create");

        // when the topics are created, the check passes without waiting
        cluster.createTopics(kafka);
        assertThatCode(() -> check(kafka, err)).doesNotThrowAnyException();
        assertThat(err.toString()).as("nothing printed while the broker answered").isEmpty();
    }

    @Test
    void shouldStopAtStartWhenTheRegistryIsUnreachable() throws Exception {
        // given the run's topics on a reachable broker, and a registry address where none listens
        TestCluster cluster = TestCluster.shared();
        KafkaConfig kafka = cluster.newKafkaConfig("preflight-registry");
        cluster.createTopics(kafka);
        int nothing;
        try (ServerSocket s = new ServerSocket(0)) {
            nothing = s.getLocalPort();
        }
        KafkaConfig noRegistry =
                kafka.withAddresses(kafka.bootstrap(), "http://localhost:" + nothing);
        PrintWriter err = new PrintWriter(new StringWriter());

        // then the full check passes with the real registry and names the absent one
        assertThatCode(() -> KafkaAccess.preflight("learner", kafka, Duration.ofSeconds(10), err))
                .doesNotThrowAnyException();
        assertThatThrownBy(
                        () ->
                                KafkaAccess.preflight(
                                        "learner", noRegistry, Duration.ofSeconds(10), err))
                .isInstanceOf(CliException.class)
                .hasMessageContaining("schema registry unreachable at http://localhost:" + nothing)
                .hasMessageContaining("--registry");
    }

    private static void check(KafkaConfig kafka, StringWriter err) {
        KafkaAccess.awaitRunTopics("actor", kafka, Duration.ofSeconds(10), new PrintWriter(err));
    }

    @Test
    void shouldSayWhereItWaitedWhenNoBrokerAnswers() throws Exception {
        // given a free port where no broker listens
        int nothing;
        try (ServerSocket s = new ServerSocket(0)) {
            nothing = s.getLocalPort();
        }
        KafkaConfig kafka =
                TestCluster.shared()
                        .newKafkaConfig("preflight-none")
                        .withAddresses("localhost:" + nothing, "http://localhost:" + nothing);
        StringWriter err = new StringWriter();

        // when a service waits for it (a short wait: a first silent try, then the rest)
        long t0 = System.nanoTime();
        assertThatThrownBy(
                        () ->
                                KafkaAccess.awaitRunTopics(
                                        "sandbox",
                                        kafka,
                                        Duration.ofSeconds(8),
                                        new PrintWriter(err)))
                .isInstanceOf(CliException.class)
                .hasMessageStartingWith(
                        "Kafka broker unreachable at localhost:"
                                + nothing
                                + " (no answer within 8 s)");
        double seconds = (System.nanoTime() - t0) / 1e9;

        // then it said that it was waiting, and gave up after about the time given
        assertThat(err.toString())
                .isEqualTo(
                        "sandbox: waiting for Kafka at localhost:"
                                + nothing
                                + " (up to 8 s)"
                                + System.lineSeparator());
        assertThat(seconds).isBetween(7.0, 20.0);
    }
}

package dev.diffustream.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalKafkaIT {

    @TempDir Path tmp;

    @Test
    void shouldServeRecordsAndKeepThemAcrossARestartWhenTheDataDirIsReused() throws Exception {
        // given a broker on a data directory of ours
        Path dir = tmp.resolve("kafka");
        long firstPid;
        try (LocalKafka kafka = LocalKafka.builder().dataDir(dir).start()) {
            firstPid = kafka.pid();
            System.out.printf(
                    "broker ready in %d ms (shared archive: %s)%n",
                    kafka.startupTime().toMillis(), kafka.usedSharedArchive());
            // when a topic is created and a record written
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic("kept", 1, (short) 1)))
                        .all()
                        .get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> p =
                    new KafkaProducer<>(
                            Map.of("bootstrap.servers", kafka.bootstrap()),
                            new StringSerializer(),
                            new StringSerializer())) {
                p.send(new ProducerRecord<>("kept", "k", "v1")).get(30, TimeUnit.SECONDS);
            }
        }
        // then the broker is gone and the data stays
        assertThat(ProcessHandle.of(firstPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(dir.resolve("server.properties")).exists();

        // when it restarts on the same directory (on other ports)
        try (LocalKafka kafka = LocalKafka.builder().dataDir(dir).start()) {
            System.out.printf(
                    "broker restarted in %d ms (shared archive: %s)%n",
                    kafka.startupTime().toMillis(), kafka.usedSharedArchive());
            // then the topic and its record are still there
            try (KafkaConsumer<String, String> c =
                    new KafkaConsumer<>(
                            Map.of("bootstrap.servers", kafka.bootstrap()),
                            new StringDeserializer(),
                            new StringDeserializer())) {
                TopicPartition tp = new TopicPartition("kept", 0);
                c.assign(List.of(tp));
                c.seekToBeginning(List.of(tp));
                List<String> values = new java.util.ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (values.isEmpty() && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                        values.add(r.value());
                    }
                }
                assertThat(values).containsExactly("v1");
            }
        }
    }

    @Test
    void shouldDeleteATemporaryDataDirAndLeaveNoProcessWhenClosed() {
        // given a broker on a temporary directory
        LocalKafka kafka = LocalKafka.builder().start();
        Path dir = kafka.dataDir();
        long pid = kafka.pid();
        assertThat(kafka.isRunning()).isTrue();
        System.out.printf(
                "broker ready in %d ms (shared archive: %s)%n",
                kafka.startupTime().toMillis(), kafka.usedSharedArchive());

        // when it is closed
        kafka.close();

        // then no broker process and no directory remain
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(dir).doesNotExist();
    }

    @Test
    void shouldStopTheBrokerAndDeleteItsTemporaryDataWhenTheParentIsKilled() throws Exception {
        // given a parent JVM holding a broker on a temporary directory
        Process parent =
                new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-cp",
                                System.getProperty("java.class.path"),
                                BrokerHolder.class.getName())
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
        String line;
        try (java.io.BufferedReader out =
                new java.io.BufferedReader(
                        new java.io.InputStreamReader(
                                parent.getInputStream(), StandardCharsets.UTF_8))) {
            line = out.readLine();
        } finally {
            // when the parent is killed with SIGKILL (no shutdown hook runs)
            parent.toHandle().destroyForcibly();
        }
        assertThat(line).as("the holder printed its broker").matches("\\d+ .+");
        long brokerPid = Long.parseLong(line.split(" ")[0]);
        Path dir = Path.of(line.substring(line.indexOf(' ') + 1));

        // then the broker exits by itself and removes its temporary data
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (ProcessHandle.of(brokerPid).map(ProcessHandle::isAlive).orElse(false)
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(ProcessHandle.of(brokerPid).map(ProcessHandle::isAlive).orElse(false))
                .as("orphaned broker alive")
                .isFalse();
        while (Files.exists(dir) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(dir).doesNotExist();
    }

    @Test
    void shouldNameThePortWhenItIsInUse() throws Exception {
        // given a port held by someone else
        try (ServerSocket taken = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            // when a broker is asked to use it, then the error names it and says what to do
            assertThatThrownBy(() -> LocalKafka.builder().port(taken.getLocalPort()).start())
                    .isInstanceOf(LocalKafkaException.class)
                    .hasMessageContaining("client port " + taken.getLocalPort() + " is in use")
                    .hasMessageContaining("0 picks a free one");
        }
    }

    @Test
    void shouldReportTheBrokerLogWhenTheBrokerCannotStart() {
        // given a broker setting the broker rejects
        // when it starts, then the error says the JVM exited and quotes the log
        assertThatThrownBy(
                        () ->
                                LocalKafka.builder()
                                        .dataDir(tmp.resolve("bad"))
                                        .keepData(false)
                                        .brokerConfig("num.io.threads", "not-a-number")
                                        .start())
                .isInstanceOf(LocalKafkaException.class)
                .hasMessageContaining("exited with code")
                .hasMessageContaining("broker.log")
                .hasMessageContaining("num.io.threads");
        // and only the log stays behind
        assertThat(tmp.resolve("bad/broker.log")).exists();
        assertThat(tmp.resolve("bad/kafka-logs")).doesNotExist();
    }
}

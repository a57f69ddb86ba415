package dev.diffustream.schemas.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TelemetryTest {

    private final Telemetry telemetry = Telemetry.create();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void close() {
        telemetry.close();
    }

    private HttpResponse<String> get(URI url) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void shouldServeJvmAndMirroredMetricsOverHttp() throws Exception {
        // given a mirrored pipeline sample
        telemetry.mirror("run7", "learner", "rewards/mean", 1.25, Map.of());

        // when the endpoint is scraped over real HTTP
        URI url = telemetry.serve("127.0.0.1", 0);
        HttpResponse<String> r = get(url);

        // then it answers in the Prometheus text format with JVM metrics and the sample
        assertThat(url.toString()).startsWith("http://127.0.0.1:").endsWith("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type"))
                .contains("text/plain; version=0.0.4; charset=utf-8");
        assertThat(r.body())
                .contains("# TYPE jvm_memory_used_bytes gauge")
                .contains("jvm_gc_memory_allocated_bytes_total")
                .contains("jvm_threads_live_threads")
                .contains("jvm_classes_loaded_classes")
                .contains("system_cpu_count")
                .contains("process_uptime_seconds")
                .contains("diffustream_rewards_mean{run=\"run7\",source=\"learner\"} 1.25");
    }

    @Test
    void shouldKeepTheLastValuePerSourceWhenSamplesRepeat() throws Exception {
        // given two sources publishing the same metric, one of them twice
        telemetry.mirror("run7", "sandbox-a", "sandbox/executions", 3, Map.of());
        telemetry.mirror("run7", "sandbox-b", "sandbox/executions", 5, Map.of());
        telemetry.mirror("run7", "sandbox-a", "sandbox/executions", 4, Map.of());

        // when scraped
        String body = get(telemetry.serve("127.0.0.1", 0)).body();

        // then each source has one series holding its latest value
        assertThat(body)
                .contains("diffustream_sandbox_executions{run=\"run7\",source=\"sandbox-a\"} 4.0")
                .contains("diffustream_sandbox_executions{run=\"run7\",source=\"sandbox-b\"} 5.0")
                .doesNotContain("source=\"sandbox-a\"} 3.0");
    }

    @Test
    void shouldKeepTheFirstTagKeysOfAMetricWhenLaterSamplesDiffer() {
        // given a metric first seen with tag 'split', then with 'split' missing and 'extra' added
        telemetry.mirror("r", "eval", "eval/pass_at_1", 0.5, Map.of("split", "heldout"));
        telemetry.mirror("r", "eval", "eval/pass_at_1", 0.25, Map.of("extra", "x"));

        // when scraped
        String body = telemetry.scrape();

        // then both samples are exposed with the first sample's label set
        assertThat(body)
                .contains(
                        "diffustream_eval_pass_at_1{run=\"r\",source=\"eval\",split=\"heldout\"} 0.5")
                .contains("diffustream_eval_pass_at_1{run=\"r\",source=\"eval\",split=\"\"} 0.25")
                .doesNotContain("extra=");
    }

    @Test
    void shouldNotLetSampleTagsOverrideSourceOrRun() {
        // when a sample carries tags named like the reserved ones
        telemetry.mirror("r", "learner", "x", 1, Map.of("source", "fake", "a-b", "v"));

        // then they are renamed and the real source stays
        assertThat(telemetry.scrape())
                .contains(
                        "diffustream_x{a_b=\"v\",run=\"r\",source=\"learner\",tag_source=\"fake\"}"
                                + " 1.0");
    }

    @Test
    void shouldMapMetricNamesToPrometheusNames() {
        assertThat(Telemetry.meterName("rewards/mean")).isEqualTo("diffustream_rewards_mean");
        assertThat(Telemetry.meterName("throughput/actor_tokens_per_s"))
                .isEqualTo("diffustream_throughput_actor_tokens_per_s");
        assertThat(Telemetry.meterName("sandbox/outcome/passed"))
                .isEqualTo("diffustream_sandbox_outcome_passed");
        assertThat(Telemetry.meterName("a.b-c d")).isEqualTo("diffustream_a_b_c_d");
        assertThatThrownBy(() -> Telemetry.meterName(" "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("metric name must not be empty");
    }

    @Test
    void shouldReturnTheSameUrlWhenServedTwiceAndRefuseASecondPort() throws IOException {
        // given an endpoint on a free port
        URI first = telemetry.serve("127.0.0.1", 0);

        // then serving again (0 or the same port) is a no-op; another port is refused
        assertThat(telemetry.serve("127.0.0.1", 0)).isEqualTo(first);
        assertThat(telemetry.serve("127.0.0.1", first.getPort())).isEqualTo(first);
        assertThat(telemetry.url()).contains(first);
        int other = freePort();
        assertThatThrownBy(() -> telemetry.serve("127.0.0.1", other))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already served at " + first)
                .hasMessageContaining("port " + other);
    }

    @Test
    void shouldNameThePortWhenItIsTaken() throws IOException {
        // given a port in use
        try (ServerSocket taken = new ServerSocket(0)) {
            int port = taken.getLocalPort();

            // then serving on it fails with a message naming it
            assertThatThrownBy(() -> telemetry.serve(port))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot serve metrics on port " + port);
        }
        assertThatThrownBy(() -> telemetry.serve(70000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("between 0 and 65535, got 70000");
    }

    @Test
    void shouldAnswer404ForOtherPathsAnd405ForOtherMethods() throws Exception {
        URI url = telemetry.serve("127.0.0.1", 0);

        HttpResponse<String> notFound = get(url.resolve("/other"));
        HttpResponse<String> post =
                http.send(
                        HttpRequest.newBuilder(url)
                                .POST(HttpRequest.BodyPublishers.ofString("x"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());

        assertThat(notFound.statusCode()).isEqualTo(404);
        assertThat(notFound.body()).contains("/metrics");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).contains("GET, HEAD");
    }

    @Test
    void shouldStopServingWhenClosed() throws Exception {
        // given a served endpoint
        URI url = telemetry.serve("127.0.0.1", 0);
        assertThat(get(url).statusCode()).isEqualTo(200);

        // when closed
        telemetry.close();

        // then the port no longer answers
        assertThatThrownBy(() -> get(url)).isInstanceOf(IOException.class);
        assertThat(telemetry.url()).isEmpty();
    }

    @Test
    void shouldServeFromDaemonThreadsOnlyWhenStartedFromAUserThread() {
        // when the endpoint is started from this (non-daemon) test thread
        assertThat(Thread.currentThread().isDaemon()).isFalse();
        telemetry.serve("127.0.0.1", 0);

        // then the JDK server's dispatcher and the handler thread are daemons: a finished JVM
        // is never kept alive by the metrics endpoint
        assertThat(Thread.getAllStackTraces().keySet())
                .filteredOn(
                        t ->
                                t.getName().startsWith("HTTP-Dispatcher")
                                        || t.getName().startsWith("telemetry-"))
                .isNotEmpty()
                .allSatisfy(t -> assertThat(t.isDaemon()).as(t.getName()).isTrue());
    }

    @Test
    void shouldBindAndUnbindKafkaClientMetrics() throws Exception {
        // given a producer and a consumer (created only; nothing is sent, no broker needed)
        Map<String, Object> common =
                Map.of(
                        "bootstrap.servers",
                        "127.0.0.1:" + freePort(),
                        // no producer-id request to the (absent) broker at start-up
                        "enable.idempotence",
                        "false");
        KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(
                        withClientId(common, "telemetry-test-producer"),
                        new ByteArraySerializer(),
                        new ByteArraySerializer());
        KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        withClientId(
                                Map.of("bootstrap.servers", common.get("bootstrap.servers")),
                                "telemetry-test-consumer"),
                        new ByteArrayDeserializer(),
                        new ByteArrayDeserializer());
        try {
            // when their metrics are bound
            Telemetry.Binding producerMetrics = telemetry.bindKafkaClient(producer);
            Telemetry.Binding consumerMetrics = telemetry.bindKafkaClient(consumer);

            // then both clients' meters are exposed, tagged with their client ids
            assertThat(telemetry.scrape())
                    .containsPattern(
                            "kafka_producer_[a-z_]+\\{[^}]*client_id=\"telemetry-test-producer\"")
                    .containsPattern(
                            "kafka_consumer_[a-z_]+\\{[^}]*client_id=\"telemetry-test-consumer\"");

            // and closing a binder removes its client's meters
            producerMetrics.close();
            consumerMetrics.close();
            assertThat(telemetry.scrape())
                    .doesNotContain("telemetry-test-producer")
                    .doesNotContain("telemetry-test-consumer");
        } finally {
            producer.close(Duration.ZERO);
            consumer.close(CloseOptions.timeout(Duration.ZERO));
        }
    }

    @Test
    void shouldKeepBothClientsAppInfoWhenAProducerAndAConsumerShareAClientId() throws Exception {
        // given a producer and a consumer with one client id, as a service's pair
        String bootstrap = "127.0.0.1:" + freePort();
        KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(
                        withClientId(
                                Map.of(
                                        "bootstrap.servers",
                                        bootstrap,
                                        "enable.idempotence",
                                        "false"),
                                "shared-id"),
                        new ByteArraySerializer(),
                        new ByteArraySerializer());
        KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(
                        withClientId(Map.of("bootstrap.servers", bootstrap), "shared-id"),
                        new ByteArrayDeserializer(),
                        new ByteArrayDeserializer());
        try (Telemetry.Binding p = telemetry.bindKafkaClient(producer);
                Telemetry.Binding c = telemetry.bindKafkaClient(consumer)) {
            // then each has its own client-wide meters: nothing was dropped as already registered
            String scrape = telemetry.scrape();
            assertThat(scrape)
                    .containsPattern(
                            "kafka_app_info_start_time_ms\\{[^}]*kafka_client_type=\"producer\"")
                    .containsPattern(
                            "kafka_app_info_start_time_ms\\{[^}]*kafka_client_type=\"consumer\"");
        } finally {
            producer.close(Duration.ZERO);
            consumer.close(CloseOptions.timeout(Duration.ZERO));
        }
    }

    private static Map<String, Object> withClientId(Map<String, Object> props, String clientId) {
        java.util.HashMap<String, Object> out = new java.util.HashMap<>(props);
        out.put("client.id", clientId);
        return out;
    }
}

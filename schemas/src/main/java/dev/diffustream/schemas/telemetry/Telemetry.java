package dev.diffustream.schemas.telemetry;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Prometheus metrics of one process: JVM metrics, Kafka client metrics and the pipeline's own
 * samples, in one Micrometer {@link PrometheusMeterRegistry}, optionally served over HTTP.
 *
 * <pre>{@code
 * Telemetry t = Telemetry.global();             // process-wide; JVM binders bound once
 * URI url = t.serve(9404);                      // GET http://localhost:9404/metrics (0 = a free port)
 * Telemetry.Binding m = t.bindKafkaClient(producer); // kafka_producer_* meters; close with the client
 * t.mirror("run7", "learner", "rewards/mean", 1.25, Map.of()); // diffustream_rewards_mean{source="learner",run="run7"}
 * }</pre>
 *
 * <p>Every sample published through {@link dev.diffustream.schemas.kafka.MetricSink} is mirrored
 * here, so the {@code metrics} topic and the Prometheus endpoint show the same pipeline figures
 * (throughput per stage, sandbox outcomes, group latency, staleness, learner step time): the topic
 * is the durable record of a run, the endpoint is what a Prometheus server scrapes.
 *
 * <p>Thread-safe. {@link #global()} lives as long as the JVM; instances from {@link #create()}
 * (tests, embedding) are closed with {@link #close()}.
 */
public final class Telemetry implements AutoCloseable {

    /**
     * What a {@code bind…} call returns: closing it removes the bound meters (close it with the
     * client). Unlike {@link AutoCloseable}, closing throws no checked exception.
     */
    public interface Binding extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Tag that tells a producer's and a consumer's client-wide meters apart: a service's producer
     * and consumer may share a {@code client.id}, and both report {@code kafka.app.info.*}, which
     * Micrometer would otherwise register once and warn about at every start.
     */
    static final String CLIENT_TYPE = "kafka.client.type";

    /** Prefix of every mirrored pipeline metric. */
    public static final String PREFIX = "diffustream_";

    private static final class Global {
        static final Telemetry INSTANCE = create();
    }

    private final PrometheusMeterRegistry registry;
    private final MetricMirror mirror;
    private final ScheduledExecutorService kafkaRefresh;
    private final List<AutoCloseable> binders = new ArrayList<>();
    private MetricsEndpoint endpoint;
    private boolean closed;

    private Telemetry() {
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.mirror = new MetricMirror(registry);
        // One daemon thread refreshes the meters of every bound Kafka client (new partitions,
        // new nodes) instead of one thread per client.
        this.kafkaRefresh =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "telemetry-kafka-metrics");
                            t.setDaemon(true);
                            return t;
                        });
        new JvmMemoryMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        binders.add(gc);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** The telemetry of this process (created on first use, with the JVM binders bound). */
    public static Telemetry global() {
        return Global.INSTANCE;
    }

    /** A new, independent telemetry with the JVM binders bound (tests, embedding); close it. */
    public static Telemetry create() {
        return new Telemetry();
    }

    /** The registry: add meters of your own here. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Every meter in the Prometheus text format (version 0.0.4), as served on {@code /metrics}. */
    public String scrape() {
        return registry.scrape();
    }

    /**
     * Serves {@code GET /metrics} on every interface at {@code port} ({@code 0}: a free port).
     * Idempotent: a second call returns the URL already served when {@code port} is 0 or the same
     * port.
     *
     * @return {@code http://localhost:<port>/metrics}
     * @throws IllegalStateException if the port cannot be bound (naming it), or if this telemetry
     *     already serves on another port
     */
    public URI serve(int port) {
        return serve(null, port);
    }

    /**
     * Like {@link #serve(int)}, bound to one address ({@code null}: every interface).
     *
     * @param host address to bind, e.g. {@code 127.0.0.1}; {@code null} for every interface
     */
    public synchronized URI serve(String host, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(
                    "metrics port must be between 0 and 65535, got " + port);
        }
        if (closed) {
            throw new IllegalStateException("telemetry is closed");
        }
        if (endpoint != null) {
            if (port == 0 || port == endpoint.port()) {
                return endpoint.url();
            }
            throw new IllegalStateException(
                    "metrics are already served at "
                            + endpoint.url()
                            + "; cannot serve them on port "
                            + port
                            + " as well");
        }
        endpoint = MetricsEndpoint.start(host, port, registry);
        return endpoint.url();
    }

    /** The URL metrics are served at, if {@link #serve} was called. */
    public synchronized Optional<URI> url() {
        return endpoint == null ? Optional.empty() : Optional.of(endpoint.url());
    }

    /**
     * Binds a producer's client metrics ({@code kafka_producer_*}, tagged with its {@code
     * client_id}). Close the returned binder when the producer closes: it removes the meters.
     */
    public Binding bindKafkaClient(Producer<?, ?> producer) {
        return bind(
                new KafkaClientMetrics(producer, Tags.of(CLIENT_TYPE, "producer"), kafkaRefresh));
    }

    /**
     * Binds a consumer's client metrics ({@code kafka_consumer_*}, including records lag, tagged
     * with its {@code client_id}). Close the returned binder when the consumer closes.
     */
    public Binding bindKafkaClient(Consumer<?, ?> consumer) {
        return bind(
                new KafkaClientMetrics(consumer, Tags.of(CLIENT_TYPE, "consumer"), kafkaRefresh));
    }

    /**
     * Binds any Micrometer binder (e.g. {@code new KafkaStreamsMetrics(streams)} in the streams
     * service). If it is {@link AutoCloseable}, closing the returned binding closes it (and so does
     * closing this telemetry); otherwise the binding does nothing.
     */
    public synchronized Binding bind(MeterBinder binder) {
        binder.bindTo(registry);
        if (binder instanceof AutoCloseable c) {
            binders.add(c);
            return () -> {
                synchronized (this) {
                    binders.remove(c);
                }
                try {
                    c.close();
                } catch (Exception e) {
                    // closing a binder only removes meters; nothing to recover
                }
            };
        }
        return () -> {};
    }

    /**
     * Sets the gauge of one pipeline sample: {@code diffustream_<name>} with {@code /} and other
     * characters Prometheus does not allow replaced by {@code _}, tagged {@code source}, {@code
     * run} and the sample's own tags. The first sample of a name fixes its tag keys (Prometheus
     * needs one label set per metric): later samples of that name fill missing keys with {@code ""}
     * and drop extra ones.
     */
    public void mirror(
            String runId, String source, String name, double value, Map<String, String> tags) {
        mirror.set(runId, source, name, value, tags);
    }

    /**
     * The Micrometer meter name a pipeline metric is mirrored to: {@code diffustream_} + the name
     * with every character outside {@code [A-Za-z0-9_]} replaced by {@code _} ({@code rewards/mean}
     * → {@code diffustream_rewards_mean}). Prometheus' naming rules apply on top (a gauge name
     * ending in {@code _total}, {@code _created}, {@code _bucket} or {@code _info} loses the
     * suffix).
     */
    public static String meterName(String metricName) {
        return MetricMirror.meterName(metricName);
    }

    /** Stops the HTTP endpoint, closes every binder and the registry. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (endpoint != null) {
            endpoint.close();
            endpoint = null;
        }
        for (AutoCloseable c : List.copyOf(binders)) {
            try {
                c.close();
            } catch (Exception e) {
                // closing a binder only removes meters; nothing to recover
            }
        }
        binders.clear();
        kafkaRefresh.shutdownNow();
        registry.close();
    }
}

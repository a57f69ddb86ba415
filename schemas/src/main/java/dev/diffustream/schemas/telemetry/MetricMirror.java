package dev.diffustream.schemas.telemetry;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Last-value gauges of pipeline samples (see {@link Telemetry#mirror}). */
final class MetricMirror {
    private static final Logger LOG = LoggerFactory.getLogger(MetricMirror.class);

    private static final String SOURCE = "source";
    private static final String RUN = "run";

    /** A gauge's identity: meter name and tags in a fixed order. */
    private record Key(String name, List<Tag> tags) {}

    private final MeterRegistry registry;

    /** Per meter name, the tag keys its first sample had (Prometheus: one label set per name). */
    private final Map<String, List<String>> keysByName = new ConcurrentHashMap<>();

    /** The value of every gauge, as {@code double} bits (the gauge reads it at scrape time). */
    private final Map<Key, AtomicLong> values = new ConcurrentHashMap<>();

    MetricMirror(MeterRegistry registry) {
        this.registry = registry;
    }

    static String meterName(String metricName) {
        if (metricName == null || metricName.isBlank()) {
            throw new IllegalArgumentException("metric name must not be empty");
        }
        return Telemetry.PREFIX + metricName.replaceAll("[^A-Za-z0-9_]", "_");
    }

    /** Prometheus label names: letters, digits and {@code _}, not starting with a digit. */
    private static String labelName(String key) {
        String clean = key.replaceAll("[^A-Za-z0-9_]", "_");
        return clean.isEmpty() || Character.isDigit(clean.charAt(0)) ? "_" + clean : clean;
    }

    /**
     * {@code source}, {@code run} and the sample's tags (label names cleaned; a sample tag named
     * like a reserved one becomes {@code tag_<name>}), sorted by key.
     */
    private static TreeMap<String, String> tagMap(
            String runId, String source, Map<String, String> tags) {
        TreeMap<String, String> out = new TreeMap<>();
        if (tags != null) {
            tags.forEach(
                    (k, v) -> {
                        String key = labelName(k);
                        if (key.equals(SOURCE) || key.equals(RUN)) {
                            key = "tag_" + key;
                        }
                        out.put(key, v == null ? "" : v);
                    });
        }
        out.put(SOURCE, source == null ? "" : source);
        out.put(RUN, runId == null ? "" : runId);
        return out;
    }

    void set(String runId, String source, String name, double value, Map<String, String> tags) {
        String meter = meterName(name);
        TreeMap<String, String> given = tagMap(runId, source, tags);
        List<String> keys = keysByName.computeIfAbsent(meter, m -> List.copyOf(given.keySet()));
        if (!keys.equals(List.copyOf(given.keySet()))) {
            LOG.debug(
                    "metric {}: tag keys {} differ from the first sample's {}; using the latter",
                    name,
                    given.keySet(),
                    keys);
        }
        List<Tag> tagList = new ArrayList<>(keys.size());
        for (String k : keys) {
            tagList.add(Tag.of(k, given.getOrDefault(k, "")));
        }
        Key key = new Key(meter, List.copyOf(tagList));
        AtomicLong holder =
                values.computeIfAbsent(
                        key,
                        k -> {
                            AtomicLong bits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
                            Gauge.builder(meter, bits, b -> Double.longBitsToDouble(b.get()))
                                    .tags(k.tags())
                                    .description("Last value of the pipeline metric '" + name + "'")
                                    .strongReference(true)
                                    .register(registry);
                            return bits;
                        });
        holder.set(Double.doubleToLongBits(value));
    }
}

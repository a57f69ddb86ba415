package dev.diffustream.streams;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;

/**
 * Configuration of the advantage topology and its Kafka Streams service (recipe section {@code
 * advantages}). The reward weights are not here: they are the recipe's top-level {@code rewards}
 * section ({@link dev.diffustream.schemas.config.RewardWeights}), one source of truth shared with
 * the sandbox, passed to {@link AdvantageTopology#buildTopology} next to this record.
 *
 * @param baseline advantage baseline (spec A.8)
 * @param scaleRewards whether advantages are divided by (unbiased std + 1e-4)
 * @param minMembers partial-group policy: fewest scored members a closed group may have
 * @param zeroVariance what to do with groups whose reward std is below 1e-6
 * @param groupDeadlineMs wall-clock time after a group's first record at which it closes anyway
 * @param punctuateIntervalMs how often deadlines and forget timers are checked
 * @param closedGroupRetentionMs how long a closed group id is remembered
 * @param metricsIntervalMs how often metrics are published
 * @param emitDroppedPayloads whether dropped groups carry token ids and log-probs
 * @param applicationId Kafka Streams application id
 * @param metricsSource the {@code source} of published metrics
 * @param commitIntervalMs transaction commit interval
 * @param cacheMaxBytes record cache size over all threads
 * @param stateDir local state directory
 * @param storeType state store implementation
 * @param streamThreads number of stream threads
 * @param maxThreadReplacements stream threads replaced after uncaught exceptions before shutdown
 * @param decodedCacheEntries completion payloads kept decoded per task
 * @param streams extra Kafka Streams properties
 */
public record AdvantageConfig(
        @JsonPropertyDescription(
                        "Advantage baseline (spec A.8): `leave_one_out` (the release's hard-coded"
                                + " choice, default) or `mean` (the paper's headline row).")
                Baseline baseline,
        @JsonPropertyDescription(
                        "Divide advantages by (unbiased group reward std + 1e-4) (spec A.8;"
                                + " false in the release recipe).")
                boolean scaleRewards,
        @JsonPropertyDescription(
                        "Partial-group policy: a closed group with fewer scored members than this"
                                + " is emitted with dropReason `partial` (not trained on); >= 2,"
                                + " since a baseline needs another member.")
                int minMembers,
        @JsonPropertyDescription(
                        "Zero-variance policy for groups whose reward std < 1e-6: `drop` (default;"
                                + " emitted with dropReason `zero_variance`) or `keep` (the"
                                + " release: trained on with advantage 0, KL term only).")
                ZeroVariancePolicy zeroVariance,
        @JsonPropertyDescription(
                        "Wall-clock deadline in ms after a group's first record: the group then"
                                + " closes (DEADLINE) with the members present (after a restart,"
                                + " restored groups get one more full deadline).")
                long groupDeadlineMs,
        @JsonPropertyDescription(
                        "Wall-clock interval in ms at which deadlines and forget timers are"
                                + " checked (the deadline's resolution).")
                long punctuateIntervalMs,
        @JsonPropertyDescription(
                        "How long in ms a closed group id is remembered so late records for it"
                                + " are counted and dropped; a record later than this would open"
                                + " a new group.")
                long closedGroupRetentionMs,
        @JsonPropertyDescription(
                        "Wall-clock interval in ms at which metrics are published to `metrics`.")
                long metricsIntervalMs,
        @JsonPropertyDescription(
                        "Whether dropped groups (dropReason set) carry members' token ids, mask"
                                + " seeds and log-probs; false keeps only ids, rewards and"
                                + " offsets (they are never trained on; the log keeps the rest).")
                boolean emitDroppedPayloads,
        @JsonPropertyDescription(
                        "Kafka Streams application.id: consumer group, transactional id and"
                                + " internal topic prefix; changing it starts from scratch.")
                String applicationId,
        @JsonPropertyDescription("`source` (and key) of the metrics this service publishes.")
                String metricsSource,
        @JsonPropertyDescription(
                        "commit.interval.ms in ms: with exactly_once_v2 outputs become visible"
                                + " to read_committed consumers at each commit.")
                long commitIntervalMs,
        @JsonPropertyDescription(
                        "statestore.cache.max.bytes over all threads in bytes (0 disables"
                                + " caching; the cache coalesces store writes between commits).")
                long cacheMaxBytes,
        @JsonPropertyDescription(
                        "state.dir: local state directory (stores, checkpoints); empty means"
                                + " Kafka Streams' default under java.io.tmpdir (`local` mode:"
                                + " `streams-state` in the run directory).")
                String stateDir,
        @JsonPropertyDescription(
                        "State store type: `rocksdb` (on disk, default) or `in_memory` (restored"
                                + " from the changelog at every start).")
                StoreType storeType,
        @JsonPropertyDescription("num.stream.threads: stream threads of this instance.")
                int streamThreads,
        @JsonPropertyDescription(
                        "Stream threads replaced after uncaught exceptions (over the process"
                                + " lifetime) before the instance shuts down instead.")
                int maxThreadReplacements,
        @JsonPropertyDescription(
                        "Completion payloads kept decoded per stream task (LRU entries, ~20 KB"
                                + " each at K=256, I=2), so a group closing soon after its"
                                + " members arrived skips decoding them again; 0 disables.")
                int decodedCacheEntries,
        @JsonPropertyDescription(
                        "Extra Kafka Streams properties, applied last (e.g."
                                + " producer.linger.ms).")
                Map<String, String> streams) {

    /** Advantage baseline (spec A.8, A.15 item 5). */
    public enum Baseline {
        /** {@code A_i = r_i − mean_j r_j}: the paper's headline row. */
        @JsonProperty("mean")
        MEAN("mean"),
        /** {@code A_i = r_i − (Σ_j r_j − r_i)/(n−1)}: hard-coded in the release. */
        @JsonProperty("leave_one_out")
        LEAVE_ONE_OUT("leave_one_out");

        private final String wireName;

        Baseline(String wireName) {
            this.wireName = wireName;
        }

        /** The name in recipes and in {@code AdvantageGroup.baseline}. */
        public String wireName() {
            return wireName;
        }
    }

    /** What happens to a group whose rewards all agree (std < 1e-6, all advantages 0). */
    public enum ZeroVariancePolicy {
        /** Emit with dropReason {@code zero_variance}: the learner skips it. */
        @JsonProperty("drop")
        DROP,
        /** Emit as trainable with advantage 0 (only the KL term sees it), as the release does. */
        @JsonProperty("keep")
        KEEP
    }

    /** State store implementation. */
    public enum StoreType {
        @JsonProperty("rocksdb")
        ROCKSDB,
        @JsonProperty("in_memory")
        IN_MEMORY
    }

    public AdvantageConfig {
        if (baseline == null) {
            throw new IllegalArgumentException(
                    "advantages.baseline must be `leave_one_out` or `mean`, got null");
        }
        if (zeroVariance == null) {
            throw new IllegalArgumentException(
                    "advantages.zeroVariance must be `drop` or `keep`, got null");
        }
        if (storeType == null) {
            throw new IllegalArgumentException(
                    "advantages.storeType must be `rocksdb` or `in_memory`, got null");
        }
        if (minMembers < 2) {
            throw new IllegalArgumentException(
                    "advantages.minMembers must be >= 2 (a baseline needs another member), got "
                            + minMembers);
        }
        requirePositive("groupDeadlineMs", groupDeadlineMs);
        requirePositive("punctuateIntervalMs", punctuateIntervalMs);
        requirePositive("closedGroupRetentionMs", closedGroupRetentionMs);
        requirePositive("metricsIntervalMs", metricsIntervalMs);
        requirePositive("commitIntervalMs", commitIntervalMs);
        if (cacheMaxBytes < 0) {
            throw new IllegalArgumentException(
                    "advantages.cacheMaxBytes must be >= 0, got " + cacheMaxBytes);
        }
        if (streamThreads < 1) {
            throw new IllegalArgumentException(
                    "advantages.streamThreads must be >= 1, got " + streamThreads);
        }
        if (maxThreadReplacements < 0) {
            throw new IllegalArgumentException(
                    "advantages.maxThreadReplacements must be >= 0, got " + maxThreadReplacements);
        }
        if (applicationId == null || !applicationId.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException(
                    "advantages.applicationId must be non-empty and use only letters, digits,"
                            + " '.', '_' or '-', got '"
                            + applicationId
                            + "'");
        }
        if (decodedCacheEntries < 0) {
            throw new IllegalArgumentException(
                    "advantages.decodedCacheEntries must be >= 0, got " + decodedCacheEntries);
        }
        if (metricsSource == null || metricsSource.isBlank()) {
            throw new IllegalArgumentException("advantages.metricsSource must not be empty");
        }
        stateDir = stateDir == null ? "" : stateDir;
        streams = streams == null ? Map.of() : Map.copyOf(streams);
    }

    private static void requirePositive(String key, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException("advantages." + key + " must be > 0, got " + value);
        }
    }

    /** Every default (the code layer of defaults → YAML → env). */
    public static AdvantageConfig defaults() {
        return new AdvantageConfig(
                Baseline.LEAVE_ONE_OUT,
                false,
                2,
                ZeroVariancePolicy.DROP,
                // Two sandbox runs at the 28-30 s request timeout of spec B.2 plus a retry fit.
                120_000L,
                1_000L,
                3_600_000L,
                10_000L,
                false,
                "diffustream-advantages",
                "streams",
                100L,
                10L * 1024 * 1024,
                "",
                StoreType.ROCKSDB,
                1,
                3,
                1024,
                Map.of());
    }

    /** A builder starting from this record's values (for tests, the CLI and benchmarks). */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Copies a config with some values changed; {@link #build()} validates. */
    public static final class Builder {
        private Baseline baseline;
        private boolean scaleRewards;
        private int minMembers;
        private ZeroVariancePolicy zeroVariance;
        private long groupDeadlineMs;
        private long punctuateIntervalMs;
        private long closedGroupRetentionMs;
        private long metricsIntervalMs;
        private boolean emitDroppedPayloads;
        private String applicationId;
        private String metricsSource;
        private long commitIntervalMs;
        private long cacheMaxBytes;
        private String stateDir;
        private StoreType storeType;
        private int streamThreads;
        private int maxThreadReplacements;
        private int decodedCacheEntries;
        private Map<String, String> streams;

        private Builder(AdvantageConfig c) {
            this.baseline = c.baseline;
            this.scaleRewards = c.scaleRewards;
            this.minMembers = c.minMembers;
            this.zeroVariance = c.zeroVariance;
            this.groupDeadlineMs = c.groupDeadlineMs;
            this.punctuateIntervalMs = c.punctuateIntervalMs;
            this.closedGroupRetentionMs = c.closedGroupRetentionMs;
            this.metricsIntervalMs = c.metricsIntervalMs;
            this.emitDroppedPayloads = c.emitDroppedPayloads;
            this.applicationId = c.applicationId;
            this.metricsSource = c.metricsSource;
            this.commitIntervalMs = c.commitIntervalMs;
            this.cacheMaxBytes = c.cacheMaxBytes;
            this.stateDir = c.stateDir;
            this.storeType = c.storeType;
            this.streamThreads = c.streamThreads;
            this.maxThreadReplacements = c.maxThreadReplacements;
            this.decodedCacheEntries = c.decodedCacheEntries;
            this.streams = c.streams;
        }

        public Builder baseline(Baseline value) {
            this.baseline = value;
            return this;
        }

        public Builder scaleRewards(boolean value) {
            this.scaleRewards = value;
            return this;
        }

        public Builder minMembers(int value) {
            this.minMembers = value;
            return this;
        }

        public Builder zeroVariance(ZeroVariancePolicy value) {
            this.zeroVariance = value;
            return this;
        }

        public Builder groupDeadlineMs(long value) {
            this.groupDeadlineMs = value;
            return this;
        }

        public Builder punctuateIntervalMs(long value) {
            this.punctuateIntervalMs = value;
            return this;
        }

        public Builder closedGroupRetentionMs(long value) {
            this.closedGroupRetentionMs = value;
            return this;
        }

        public Builder metricsIntervalMs(long value) {
            this.metricsIntervalMs = value;
            return this;
        }

        public Builder emitDroppedPayloads(boolean value) {
            this.emitDroppedPayloads = value;
            return this;
        }

        public Builder applicationId(String value) {
            this.applicationId = value;
            return this;
        }

        public Builder metricsSource(String value) {
            this.metricsSource = value;
            return this;
        }

        public Builder commitIntervalMs(long value) {
            this.commitIntervalMs = value;
            return this;
        }

        public Builder cacheMaxBytes(long value) {
            this.cacheMaxBytes = value;
            return this;
        }

        public Builder stateDir(String value) {
            this.stateDir = value;
            return this;
        }

        public Builder storeType(StoreType value) {
            this.storeType = value;
            return this;
        }

        public Builder streamThreads(int value) {
            this.streamThreads = value;
            return this;
        }

        public Builder maxThreadReplacements(int value) {
            this.maxThreadReplacements = value;
            return this;
        }

        public Builder decodedCacheEntries(int value) {
            this.decodedCacheEntries = value;
            return this;
        }

        public Builder streams(Map<String, String> value) {
            this.streams = value;
            return this;
        }

        public AdvantageConfig build() {
            return new AdvantageConfig(
                    baseline,
                    scaleRewards,
                    minMembers,
                    zeroVariance,
                    groupDeadlineMs,
                    punctuateIntervalMs,
                    closedGroupRetentionMs,
                    metricsIntervalMs,
                    emitDroppedPayloads,
                    applicationId,
                    metricsSource,
                    commitIntervalMs,
                    cacheMaxBytes,
                    stateDir,
                    storeType,
                    streamThreads,
                    maxThreadReplacements,
                    decodedCacheEntries,
                    streams);
        }
    }
}

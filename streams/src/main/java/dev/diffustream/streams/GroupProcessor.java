package dev.diffustream.streams;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.DeadLetter;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.GroupClose;
import dev.diffustream.schemas.avro.Metric;
import dev.diffustream.schemas.avro.Outcome;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.streams.AdvantageConfig.ZeroVariancePolicy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins completions with their executions, collects each group's scored members and closes the
 * group when all G are resolved or at its wall-clock deadline, then emits one {@link
 * AdvantageGroup} (spec A.8). One instance per stream task; all state is in the three stores of
 * {@link AdvantageTopology}, so a restarted or migrated task resumes exactly where the last commit
 * left it.
 *
 * <p>Per record: look the group up (closed → late, counted and dropped); find the member's slot by
 * completion id (already seen → duplicate, counted and dropped); store the completion's payload
 * once (as a pre-filled {@link AdvantageMember}) or fold the execution's outcome and rewards into
 * the slot; close the group if complete. A SANDBOX_ERROR execution resolves its member as excluded.
 */
final class GroupProcessor implements Processor<String, SpecificRecord, String, SpecificRecord> {
    private static final Logger LOG = LoggerFactory.getLogger(GroupProcessor.class);

    private final AdvantageConfig cfg;
    private final RewardWeights weights;
    private final Topic<Completion> completions;
    private final Topic<Execution> executions;
    private final String service;

    /** Ids are kept in the group state; longer ones are refused (the state format caps them). */
    static final int MAX_ID_CHARS = 1024;

    private ProcessorContext<String, SpecificRecord> context;
    private KeyValueStore<String, GroupState> groups;
    private KeyValueStore<String, AdvantageMember> members;
    private KeyValueStore<String, String> timers;
    private AdvantageMetrics metrics;
    private long deadlinesResumeAt;

    /**
     * The payloads stored by this processor instance, still decoded (a bounded LRU): a group that
     * completes while its members are here skips decoding them from the store. Only ever a copy of
     * store contents; emptied whenever the task (re)initialises, so it cannot outlive a rollback of
     * the store.
     */
    private final Map<String, AdvantageMember> decoded;

    /** Likewise for group states, which are read and rewritten on every record of a group. */
    private final Map<String, GroupState> states = lru(STATE_CACHE_ENTRIES);

    /** Group states kept decoded per task (~1 KB each). */
    private static final int STATE_CACHE_ENTRIES = 4096;

    GroupProcessor(
            AdvantageConfig cfg,
            RewardWeights weights,
            Topic<Completion> completions,
            Topic<Execution> executions) {
        this.cfg = cfg;
        this.weights = weights;
        this.completions = completions;
        this.executions = executions;
        this.service = cfg.applicationId();
        this.decoded = lru(cfg.decodedCacheEntries());
    }

    private static <V> Map<String, V> lru(int capacity) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > capacity;
            }
        };
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
        this.context = context;
        this.groups = context.getStateStore(AdvantageTopology.GROUPS_STORE);
        this.members = context.getStateStore(AdvantageTopology.MEMBERS_STORE);
        this.timers = context.getStateStore(AdvantageTopology.TIMERS_STORE);
        this.metrics = new AdvantageMetrics(cfg.metricsSource(), context.taskId().toString());
        decoded.clear();
        states.clear();
        // After a (re)start the task's restored groups get one more full deadline: their
        // missing records may be waiting in the input after an outage longer than the deadline.
        this.deadlinesResumeAt = context.currentSystemTimeMs() + cfg.groupDeadlineMs();
        // Wall-clock, not stream time: a stalled input must not keep a group open forever.
        context.schedule(
                Duration.ofMillis(cfg.punctuateIntervalMs()),
                PunctuationType.WALL_CLOCK_TIME,
                this::fireTimers);
        context.schedule(
                Duration.ofMillis(cfg.metricsIntervalMs()),
                PunctuationType.WALL_CLOCK_TIME,
                this::publishMetrics);
    }

    @Override
    public void process(Record<String, SpecificRecord> record) {
        SpecificRecord value = record.value();
        if (value instanceof Completion c) {
            onCompletion(record.key(), c);
        } else if (value instanceof Execution e) {
            onExecution(record.key(), e);
        } else if (value != null) {
            // Only reachable if the topology is wired wrongly: fail loudly.
            throw new IllegalStateException(
                    "unexpected record type " + value.getClass().getName() + " at " + where());
        }
        // A null value (tombstone) means nothing on these topics: ignore it.
    }

    private void onCompletion(String key, Completion c) {
        String problem =
                invalid(
                        key,
                        c.getGroupId(),
                        c.getCompletionId(),
                        c.getGroupSize(),
                        "groupSize",
                        false);
        if (problem != null) {
            deadLetter(key, completions.valueSerde().serialize(completions.name(), c), problem);
            return;
        }
        long now = context.currentSystemTimeMs();
        String groupId = c.getGroupId();
        GroupState state = groupFor(groupId, c.getRunId(), c.getTaskId(), c.getGroupSize(), now);
        if (state == null) {
            return;
        }
        metrics.run(c.getRunId());
        GroupState.Slot slot = state.slotFor(c.getCompletionId());
        if (slot.hasCompletion()) {
            metrics.count(AdvantageMetrics.RECORDS_DUPLICATE);
            return;
        }
        checkGroupSize(state, c.getGroupSize(), groupId);
        state.learn(c.getRunId(), c.getTaskId(), c.getGroupSize());
        // After a SANDBOX_ERROR the payload is never needed: do not store it.
        boolean store = !slot.excluded();
        if (store) {
            AdvantageMember member = pending(c);
            members.put(c.getCompletionId(), member);
            decoded.put(c.getCompletionId(), member);
        }
        slot.completionArrived(c.getMemberIndex(), c.getPolicyVersion(), store);
        closeIfComplete(groupId, state, now);
    }

    private void onExecution(String key, Execution e) {
        String problem =
                invalid(
                        key,
                        e.getGroupId(),
                        e.getCompletionId(),
                        e.getGroupSize(),
                        "groupSize",
                        true);
        if (problem == null
                && (Double.isInfinite(e.getCodeReward())
                        || Double.isInfinite(e.getFormatReward()))) {
            problem =
                    "rewards must be finite or NaN (unknown), got code "
                            + e.getCodeReward()
                            + ", format "
                            + e.getFormatReward();
        }
        if (problem != null) {
            deadLetter(key, executions.valueSerde().serialize(executions.name(), e), problem);
            return;
        }
        long now = context.currentSystemTimeMs();
        String groupId = e.getGroupId();
        GroupState state = groupFor(groupId, e.getRunId(), e.getTaskId(), e.getGroupSize(), now);
        if (state == null) {
            return;
        }
        metrics.run(e.getRunId());
        GroupState.Slot slot = state.slotFor(e.getCompletionId());
        if (slot.hasExecution()) {
            // A retried execution: the first one counts (the sandbox retries SANDBOX_ERROR
            // before reporting, so a later different outcome would be a sandbox bug).
            metrics.count(AdvantageMetrics.RECORDS_DUPLICATE);
            return;
        }
        checkGroupSize(state, e.getGroupSize(), groupId);
        state.learn(e.getRunId(), e.getTaskId(), e.getGroupSize());
        slot.executionArrived(
                e.getOutcome(), e.getFormatReward(), e.getCodeReward(), e.getAttempt());
        if (slot.excluded()) {
            metrics.count(AdvantageMetrics.RECORDS_SANDBOX_ERROR);
            if (slot.stored()) {
                forget(slot.completionId());
                slot.unstored();
            }
        }
        closeIfComplete(groupId, state, now);
    }

    /** Why a decoded record cannot be used, or null. */
    private static String invalid(
            String key,
            String groupId,
            String completionId,
            int groupSize,
            String sizeField,
            boolean sizeMayBeUnknown) {
        if (groupId == null || groupId.isEmpty()) {
            return "groupId is empty";
        }
        if (!groupId.equals(key)) {
            return "record key '"
                    + key
                    + "' differs from groupId '"
                    + groupId
                    + "' (completions and executions must be keyed by group id)";
        }
        if (completionId == null || completionId.isEmpty()) {
            return "completionId is empty";
        }
        if (groupId.length() > MAX_ID_CHARS || completionId.length() > MAX_ID_CHARS) {
            return "groupId or completionId longer than " + MAX_ID_CHARS + " characters";
        }
        if (groupSize < 0 || (groupSize == 0 && !sizeMayBeUnknown)) {
            return sizeField + " must be >= 1, got " + groupSize;
        }
        return null;
    }

    /** The open state of a group (created if new), or null if the group already closed. */
    private GroupState groupFor(
            String groupId, String runId, String taskId, int groupSize, long now) {
        GroupState state = stateOf(groupId);
        if (state != null && state.isClosed()) {
            metrics.count(AdvantageMetrics.GROUPS_LATE);
            LOG.debug("late record for closed group {} at {}", groupId, where());
            return null;
        }
        if (state == null) {
            long deadline = now + cfg.groupDeadlineMs();
            state = GroupState.open(runId, taskId, groupSize, now, deadline);
            timers.put(Timers.key(Timers.DEADLINE, deadline, groupId), groupId);
        }
        return state;
    }

    private static void checkGroupSize(GroupState state, int groupSize, String groupId) {
        if (state.groupSize() > 0 && groupSize > 0 && groupSize != state.groupSize()) {
            LOG.warn(
                    "group {}: records disagree on G ({} then {}); keeping {}",
                    groupId,
                    state.groupSize(),
                    groupSize,
                    state.groupSize());
        }
    }

    private void closeIfComplete(String groupId, GroupState state, long now) {
        if (state.complete()) {
            close(groupId, state, GroupClose.COMPLETE, now);
        } else {
            saveState(groupId, state);
        }
    }

    /**
     * The weighted total reward, spec A.8 step 2: {@code nansum_f(w_f · r_f)}, so an unknown (NaN)
     * component counts as 0, as in the release.
     */
    private double reward(double code, double format) {
        return (Double.isNaN(code) ? 0 : weights.code() * code)
                + (Double.isNaN(format) ? 0 : weights.format() * format);
    }

    /** The completion's payload as a member still to be scored. */
    private AdvantageMember pending(Completion c) {
        RecordMetadata meta = context.recordMetadata().orElse(null);
        return AdvantageMember.newBuilder()
                .setCompletionId(c.getCompletionId())
                .setMemberIndex(c.getMemberIndex())
                .setPromptTokenIds(c.getPromptTokenIds())
                .setTokenIds(c.getTokenIds())
                .setPolicyVersion(c.getPolicyVersion())
                .setMaskSeeds(c.getMaskSeeds())
                .setBehaviourLogProbs(c.getBehaviourLogProbs())
                .setOutcome(Outcome.UNKNOWN)
                .setFormatReward(0)
                .setCodeReward(0)
                .setReward(0)
                .setAdvantage(0)
                .setSourcePartition(meta == null ? -1 : meta.partition())
                .setSourceOffset(meta == null ? -1 : meta.offset())
                .build();
    }

    /**
     * Closes a group: scores its members, applies the partial-group and zero-variance policies,
     * computes advantages (spec A.8), emits the AdvantageGroup, frees its payloads and leaves a
     * closed marker that is forgotten after the retention time.
     */
    private void close(String groupId, GroupState state, GroupClose reason, long now) {
        List<GroupState.Slot> scored = state.scoredByIndex();
        int n = scored.size();
        List<AdvantageMember> list = new ArrayList<>(n);
        double[] rewards = new double[n];
        long oldestVersion = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            GroupState.Slot slot = scored.get(i);
            AdvantageMember m = decoded.remove(slot.completionId());
            if (m == null) {
                m = members.get(slot.completionId());
            }
            if (m == null) {
                throw new IllegalStateException(
                        "group "
                                + groupId
                                + ": payload of "
                                + slot.completionId()
                                + " missing from "
                                + AdvantageTopology.MEMBERS_STORE);
            }
            rewards[i] = reward(slot.codeReward(), slot.formatReward());
            m.setOutcome(slot.outcome());
            m.setFormatReward(slot.formatReward());
            m.setCodeReward(slot.codeReward());
            m.setReward(rewards[i]);
            list.add(m);
            oldestVersion = Math.min(oldestVersion, m.getPolicyVersion());
        }

        double mean = Double.NaN;
        double std = Double.NaN;
        boolean zeroVariance = false;
        String dropReason = null;
        if (n >= 2) {
            Advantages.Result result =
                    Advantages.compute(rewards, cfg.baseline(), cfg.scaleRewards());
            mean = result.mean();
            std = result.std();
            zeroVariance = result.zeroVariance();
            for (int i = 0; i < n; i++) {
                list.get(i).setAdvantage(result.advantages()[i]);
            }
        } else if (n == 1) {
            mean = rewards[0];
        }
        if (n < cfg.minMembers()) {
            dropReason = AdvantageTopology.DROP_PARTIAL;
            for (AdvantageMember m : list) {
                m.setAdvantage(0);
            }
        } else if (zeroVariance && cfg.zeroVariance() == ZeroVariancePolicy.DROP) {
            dropReason = AdvantageTopology.DROP_ZERO_VARIANCE;
        }
        if (dropReason != null && !cfg.emitDroppedPayloads()) {
            for (AdvantageMember m : list) {
                m.setPromptTokenIds(List.of());
                m.setTokenIds(List.of());
                m.setMaskSeeds(List.of());
                m.setBehaviourLogProbs(List.of());
            }
        }

        AdvantageGroup group =
                AdvantageGroup.newBuilder()
                        .setRunId(state.runId())
                        .setGroupId(groupId)
                        .setTaskId(state.taskId())
                        .setGroupSize(state.groupSize())
                        .setMembers(list)
                        .setCloseReason(reason)
                        .setExcludedMembers(state.excluded())
                        .setRewardMean(mean)
                        .setRewardStd(std)
                        .setZeroVariance(zeroVariance)
                        .setBaseline(cfg.baseline().wireName())
                        .setScaled(cfg.scaleRewards())
                        .setFirstSeenAt(Instant.ofEpochMilli(state.firstSeenMs()))
                        .setClosedAt(Instant.ofEpochMilli(now))
                        .setDropReason(dropReason)
                        .build();
        context.forward(new Record<>(groupId, group, now), AdvantageTopology.ADVANTAGES_SINK);

        for (GroupState.Slot slot : state.slots()) {
            if (slot.stored()) {
                forget(slot.completionId());
            }
        }
        timers.delete(Timers.key(Timers.DEADLINE, state.deadlineMs(), groupId));
        saveState(groupId, GroupState.closed(now));
        timers.put(Timers.key(Timers.FORGET, now + cfg.closedGroupRetentionMs(), groupId), groupId);

        metrics.count(AdvantageMetrics.GROUPS_EMITTED);
        metrics.count(
                reason == GroupClose.COMPLETE
                        ? AdvantageMetrics.GROUPS_COMPLETE
                        : AdvantageMetrics.GROUPS_PARTIAL);
        if (dropReason != null) {
            metrics.count(AdvantageMetrics.GROUPS_DROPPED);
            metrics.count(
                    dropReason.equals(AdvantageTopology.DROP_PARTIAL)
                            ? AdvantageMetrics.GROUPS_DROPPED_PARTIAL
                            : AdvantageMetrics.GROUPS_DROPPED_ZERO_VARIANCE);
        }
        if (n > 0) {
            metrics.groupRewards(oldestVersion, rewards, std, zeroVariance);
        }
        metrics.latency(now - state.firstSeenMs());
    }

    /**
     * Closes every group whose deadline passed (but none before a full deadline has passed since
     * this task started); forgets closed groups past their retention.
     */
    private void fireTimers(long now) {
        // Groups first seen since the start have deadlines >= deadlinesResumeAt anyway.
        List<String> dueDeadlines = now < deadlinesResumeAt ? List.of() : due(Timers.DEADLINE, now);
        for (String key : dueDeadlines) {
            String groupId = Timers.groupId(key);
            GroupState state = stateOf(groupId);
            if (state != null && !state.isClosed()) {
                LOG.debug(
                        "group {} closes at its deadline with {} of {} members resolved",
                        groupId,
                        state.resolved(),
                        state.groupSize());
                close(groupId, state, GroupClose.DEADLINE, now);
            } else {
                timers.delete(key);
            }
        }
        for (String key : due(Timers.FORGET, now)) {
            String groupId = Timers.groupId(key);
            GroupState state = stateOf(groupId);
            if (state != null && state.isClosed()) {
                groups.put(groupId, null);
                states.remove(groupId);
            }
            timers.delete(key);
        }
    }

    /** A group's state: the object last saved if still cached, else decoded from the store. */
    private GroupState stateOf(String groupId) {
        GroupState state = states.get(groupId);
        if (state == null) {
            state = groups.get(groupId);
            if (state != null) {
                states.put(groupId, state);
            }
        }
        return state;
    }

    /** Writes a group's state (every mutation of a state object ends here). */
    private void saveState(String groupId, GroupState state) {
        groups.put(groupId, state);
        states.put(groupId, state);
    }

    /** Removes a payload from the store (without decoding the old value, as delete() would). */
    private void forget(String completionId) {
        members.put(completionId, null);
        decoded.remove(completionId);
    }

    private List<String> due(char kind, long now) {
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, String> it =
                timers.range(Timers.from(kind), Timers.dueBy(kind, now))) {
            while (it.hasNext()) {
                KeyValue<String, String> kv = it.next();
                keys.add(kv.key);
            }
        }
        return keys;
    }

    private void publishMetrics(long now) {
        for (Metric m : metrics.drain(now)) {
            context.forward(
                    new Record<>(cfg.metricsSource(), m, now), AdvantageTopology.METRICS_SINK);
        }
    }

    /** Parks a decodable but unusable record in dead-letters (re-encoded value). */
    private void deadLetter(String key, byte[] value, String problem) {
        RecordMetadata meta = context.recordMetadata().orElse(null);
        LOG.warn("invalid record at {} sent to dead-letters: {}", where(), problem);
        metrics.count(AdvantageMetrics.RECORDS_INVALID);
        DeadLetter letter =
                DeadLetter.newBuilder()
                        .setSourceTopic(meta == null ? "" : meta.topic())
                        .setSourcePartition(meta == null ? -1 : meta.partition())
                        .setSourceOffset(meta == null ? -1 : meta.offset())
                        .setKey(
                                key == null
                                        ? null
                                        : ByteBuffer.wrap(key.getBytes(StandardCharsets.UTF_8)))
                        .setValue(value == null ? null : ByteBuffer.wrap(value))
                        .setError(problem)
                        .setErrorClass(IllegalArgumentException.class.getName())
                        .setService(service)
                        .setTimestamp(Instant.ofEpochMilli(context.currentSystemTimeMs()))
                        .build();
        context.forward(
                new Record<>(key, letter, context.currentSystemTimeMs()),
                AdvantageTopology.DEAD_LETTERS_SINK);
    }

    private String where() {
        return context.recordMetadata()
                .map(m -> m.topic() + "-" + m.partition() + "@" + m.offset())
                .orElse("(punctuation)");
    }

    @Override
    public void close() {
        // The stores are owned and closed by Kafka Streams; unpublished metrics are dropped.
        decoded.clear();
        states.clear();
    }
}

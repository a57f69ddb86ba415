package dev.diffustream.infra.dashboard;

import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListStreamsGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Reads the watched groups' committed offsets and the topics' offsets with an Admin client (it
 * never joins a group) and turns them into lag rows ({@link ConsumerLag}). End offsets are the last
 * stable offsets (read_committed), what the services' read_committed consumers can reach.
 */
final class LagProbe implements AutoCloseable {

    private final Admin admin;
    private final String prefix;
    private final List<WatchedGroup> groups;
    private final Duration timeout;

    LagProbe(KafkaConfig kafka, List<WatchedGroup> groups, String clientId, Duration timeout) {
        Map<String, Object> p = Clients.common(kafka, clientId);
        int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        // A probe that cannot answer within its period should fail and try again, not retry 60 s.
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
        this.admin = Admin.create(p);
        this.prefix = kafka.topicPrefix();
        this.groups = List.copyOf(groups);
        this.timeout = timeout;
    }

    /** One round of lag figures. */
    List<DashboardState.LagRow> probe() throws Exception {
        Set<String> wanted = new LinkedHashSet<>();
        for (WatchedGroup g : groups) {
            g.topics().forEach(t -> wanted.add(prefix + t));
        }
        Set<String> existing = new HashSet<>(get(admin.listTopics().names()));
        existing.retainAll(wanted);
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        if (!existing.isEmpty()) {
            for (TopicDescription d :
                    get(admin.describeTopics(existing).allTopicNames()).values()) {
                for (TopicPartitionInfo p : d.partitions()) {
                    TopicPartition tp = new TopicPartition(d.name(), p.partition());
                    earliest.put(tp, OffsetSpec.earliest());
                    latest.put(tp, OffsetSpec.latest());
                }
            }
        }
        Map<TopicPartition, Long> start = offsets(earliest);
        Map<TopicPartition, Long> end = offsets(latest);

        Map<String, Map<TopicPartition, Long>> committed = new HashMap<>();
        Map<String, String> states = new HashMap<>();
        Map<String, Integer> members = new HashMap<>();
        List<String> ids = new ArrayList<>(groups.stream().map(WatchedGroup::groupId).toList());
        Map<String, KafkaFuture<ConsumerGroupDescription>> described =
                admin.describeConsumerGroups(ids).describedGroups();
        for (String id : ids) {
            committed.put(id, committedOffsets(id));
            try {
                ConsumerGroupDescription d = get(described.get(id));
                states.put(id, d.groupState() == null ? null : d.groupState().toString());
                members.put(id, d.members().size());
            } catch (ExecutionException e) {
                if (e.getCause()
                        instanceof org.apache.kafka.common.errors.GroupIdNotFoundException) {
                    states.put(id, "no such group");
                    members.put(id, 0);
                } else {
                    states.put(id, "unknown (" + e.getCause().getClass().getSimpleName() + ")");
                }
            }
        }
        return ConsumerLag.rows(groups, prefix, committed, states, members, start, end);
    }

    private Map<TopicPartition, Long> offsets(Map<TopicPartition, OffsetSpec> specs)
            throws Exception {
        Map<TopicPartition, Long> out = new HashMap<>();
        if (specs.isEmpty()) {
            return out;
        }
        get(admin.listOffsets(specs, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all())
                .forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    /**
     * A group's committed offsets: a consumer group's, or a Kafka Streams application's when it
     * runs with the streams group protocol; empty if the group has committed nothing.
     */
    private Map<TopicPartition, Long> committedOffsets(String groupId) throws Exception {
        Map<TopicPartition, Long> out = new HashMap<>();
        Map<TopicPartition, OffsetAndMetadata> got;
        try {
            got = get(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata());
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.GroupIdNotFoundException
                    || e.getCause()
                            instanceof
                            org.apache.kafka.common.errors.InconsistentGroupProtocolException)) {
                throw e;
            }
            got = Map.of();
        }
        if (got.isEmpty()) {
            try {
                got =
                        get(
                                admin.listStreamsGroupOffsets(
                                                Map.of(groupId, new ListStreamsGroupOffsetsSpec()))
                                        .partitionsToOffsetAndMetadata(groupId));
            } catch (ExecutionException | RuntimeException e) {
                got = Map.of(); // not a streams group (or an older broker): nothing committed
            }
        }
        got.forEach(
                (tp, o) -> {
                    if (o != null) {
                        out.put(tp, o.offset());
                    }
                });
        return out;
    }

    private <T> T get(KafkaFuture<T> f)
            throws ExecutionException, InterruptedException, TimeoutException {
        return f.get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(2));
    }
}

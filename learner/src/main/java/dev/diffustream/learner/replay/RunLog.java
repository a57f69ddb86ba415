package dev.diffustream.learner.replay;

import dev.diffustream.schemas.Topic;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.GroupRef;
import dev.diffustream.schemas.avro.TrainStep;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.serde.RecordDecoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * A run's committed step log ({@code train-steps}) and checkpoint log ({@code checkpoints}), read
 * with {@code read_committed} (aborted transactions of a crashed learner are invisible) and checked
 * for what a replay relies on: steps 1..N without gaps or duplicates, each batch's iterations
 * consecutive with one group list and one starting version, checkpoint versions 0..M without gaps.
 */
public final class RunLog {

    private final String runId;
    private final List<TrainStep> steps;
    private final List<Checkpoint> checkpoints;
    private final List<RecordedBatch> batches;

    private RunLog(
            String runId,
            List<TrainStep> steps,
            List<Checkpoint> checkpoints,
            List<RecordedBatch> batches) {
        this.runId = runId;
        this.steps = steps;
        this.checkpoints = checkpoints;
        this.batches = batches;
    }

    /**
     * Builds the log of run {@code runId} from decoded events (other runs' events are ignored).
     *
     * @throws IllegalStateException naming the step, batch or version when the log is not
     *     replayable (a gap, a duplicate, a batch whose iterations disagree)
     */
    public static RunLog of(
            String runId, Collection<TrainStep> allSteps, Collection<Checkpoint> allCheckpoints) {
        List<TrainStep> steps =
                allSteps.stream()
                        .filter(s -> runId.equals(s.getRunId()))
                        .sorted(Comparator.comparingLong(TrainStep::getStep))
                        .toList();
        for (int i = 0; i < steps.size(); i++) {
            long expected = i + 1;
            long step = steps.get(i).getStep();
            if (step != expected) {
                throw new IllegalStateException(
                        "train-steps of run '"
                                + runId
                                + "': "
                                + (step < expected
                                        ? "step " + step + " appears twice"
                                        : "step " + expected + " is missing (next is " + step + ")")
                                + "; a replay needs every committed step 1.."
                                + steps.get(steps.size() - 1).getStep());
            }
        }
        List<Checkpoint> checkpoints =
                allCheckpoints.stream()
                        .filter(c -> runId.equals(c.getRunId()))
                        .sorted(Comparator.comparingLong(Checkpoint::getVersion))
                        .toList();
        for (int i = 0; i < checkpoints.size(); i++) {
            long v = checkpoints.get(i).getVersion();
            if (v != i) {
                throw new IllegalStateException(
                        "checkpoints of run '"
                                + runId
                                + "': "
                                + (v < i
                                        ? "version " + v + " appears twice"
                                        : "version " + i + " is missing (next is " + v + ")"));
            }
        }
        return new RunLog(runId, steps, checkpoints, batches(runId, steps));
    }

    private static List<RecordedBatch> batches(String runId, List<TrainStep> steps) {
        List<RecordedBatch> out = new ArrayList<>();
        int i = 0;
        while (i < steps.size()) {
            TrainStep first = steps.get(i);
            List<TrainStep> same = new ArrayList<>();
            while (i < steps.size() && steps.get(i).getBatch() == first.getBatch()) {
                TrainStep s = steps.get(i);
                String problem = null;
                if (s.getIteration() != same.size()) {
                    problem =
                            "iteration " + s.getIteration() + " where " + same.size() + " was due";
                } else if (s.getPolicyVersionBefore() != first.getPolicyVersionBefore()) {
                    problem =
                            "policyVersionBefore "
                                    + s.getPolicyVersionBefore()
                                    + " differs from the batch's "
                                    + first.getPolicyVersionBefore();
                } else if (!sameGroups(s.getGroups(), first.getGroups())) {
                    problem = "its groups differ from those of the batch's first step";
                }
                if (problem != null) {
                    throw new IllegalStateException(
                            "train-steps of run '"
                                    + runId
                                    + "': step "
                                    + s.getStep()
                                    + " of batch "
                                    + s.getBatch()
                                    + ": "
                                    + problem);
                }
                same.add(s);
                i++;
            }
            if (!out.isEmpty() && out.get(out.size() - 1).batch() >= first.getBatch()) {
                throw new IllegalStateException(
                        "train-steps of run '"
                                + runId
                                + "': batch "
                                + first.getBatch()
                                + " at step "
                                + first.getStep()
                                + " follows batch "
                                + out.get(out.size() - 1).batch());
            }
            out.add(
                    new RecordedBatch(
                            first.getBatch(),
                            first.getPolicyVersionBefore(),
                            first.getGroups(),
                            same));
        }
        return List.copyOf(out);
    }

    private static boolean sameGroups(List<GroupRef> a, List<GroupRef> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            GroupRef x = a.get(i);
            GroupRef y = b.get(i);
            if (!Objects.equals(x.getGroupId(), y.getGroupId())
                    || x.getPartition() != y.getPartition()
                    || x.getOffset() != y.getOffset()
                    || x.getMembers() != y.getMembers()
                    || x.getDroppedStale() != y.getDroppedStale()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads the committed {@code train-steps} and {@code checkpoints} of run {@code runId} up to
     * their last stable offsets as of now.
     *
     * @throws IllegalStateException if a topic cannot be read to its end within {@code timeout}, or
     *     if the log is not replayable ({@link #of})
     */
    public static RunLog read(KafkaConfig kafka, Topics topics, String runId, Duration timeout) {
        return of(
                runId,
                readAll(kafka, topics.trainSteps(), "replay-steps-" + runId, timeout),
                readAll(kafka, topics.checkpoints(), "replay-checkpoints-" + runId, timeout));
    }

    /** Every committed record of {@code topic} as of now, decoded (no consumer group). */
    static <V extends SpecificRecord> List<V> readAll(
            KafkaConfig kafka, Topic<V> topic, String clientId, Duration timeout) {
        List<V> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(Clients.consumer(kafka, clientId, null))) {
            List<PartitionInfo> infos = c.partitionsFor(topic.name(), timeout);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException(
                        "topic '"
                                + topic.name()
                                + "' does not exist on "
                                + kafka.bootstrap()
                                + " (check the run's kafka.topicPrefix / --prefix)");
            }
            List<TopicPartition> tps =
                    infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            // read_committed: the end offsets are the last stable offsets.
            Map<TopicPartition, Long> end = c.endOffsets(tps, timeout);
            RecordDecoder<V> decoder = new RecordDecoder<>(topic);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "could not read '"
                                    + topic.name()
                                    + "' to its end within "
                                    + timeout.toSeconds()
                                    + " s");
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.add(decoder.value(r));
                }
            }
        }
        return out;
    }

    public String runId() {
        return runId;
    }

    /** Committed TrainSteps by step number (1..N). */
    public List<TrainStep> steps() {
        return steps;
    }

    /** Committed checkpoints by version (0..M). */
    public List<Checkpoint> checkpoints() {
        return checkpoints;
    }

    /** The batches in training order. */
    public List<RecordedBatch> batches() {
        return batches;
    }

    /** The starting checkpoint (version 0), if the learner published it. */
    public Optional<Checkpoint> initial() {
        return checkpoints.isEmpty() ? Optional.empty() : Optional.of(checkpoints.get(0));
    }

    /** Trained checkpoints (version ≥ 1) by the optimizer step after which they were written. */
    public Map<Long, List<Checkpoint>> checkpointsByStep() {
        Map<Long, List<Checkpoint>> out = new TreeMap<>();
        for (Checkpoint c : checkpoints) {
            if (c.getVersion() > 0) {
                out.computeIfAbsent(c.getStep(), k -> new ArrayList<>()).add(c);
            }
        }
        return out;
    }

    /** Every group coordinate the trained batches name, for prefetching. */
    public List<GroupRef> trainedGroups() {
        List<GroupRef> out = new ArrayList<>();
        for (RecordedBatch b : batches) {
            out.addAll(b.groups());
        }
        return out;
    }
}

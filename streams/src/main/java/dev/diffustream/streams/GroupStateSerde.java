package dev.diffustream.streams;

import dev.diffustream.schemas.avro.Outcome;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Binary serde of {@link GroupState} for the groups store and its changelog: internal state, never
 * read outside this topology, so a compact hand-written format with a version byte instead of a
 * registered Avro type. A later format must keep reading version 1 (a changelog outlives a
 * deployment).
 *
 * <pre>
 * v1 := 0x01 status
 *   status 0x01 (closed) := closedAtMs:long
 *   status 0x00 (open)   := runId:utf taskId:utf groupSize:int firstSeenMs:long deadlineMs:long
 *                           slots:int slot*
 *   slot := completionId:utf memberIndex:int flags:byte policyVersion:long
 *           [outcome:utf formatReward:double codeReward:double attempt:int]   (if flag EXECUTION)
 *   flags: 1 COMPLETION, 2 STORED, 4 EXECUTION
 * </pre>
 */
public final class GroupStateSerde implements Serde<GroupState> {

    static final byte VERSION = 1;
    private static final byte OPEN = 0;
    private static final byte CLOSED = 1;
    private static final int COMPLETION = 1;
    private static final int STORED = 2;
    private static final int EXECUTION = 4;

    public byte[] serialize(String topic, GroupState state) {
        if (state == null) {
            return null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 48 * state.slots().size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            if (state.isClosed()) {
                out.writeByte(CLOSED);
                out.writeLong(state.closedAtMs());
            } else {
                out.writeByte(OPEN);
                out.writeUTF(state.runId());
                out.writeUTF(state.taskId());
                out.writeInt(state.groupSize());
                out.writeLong(state.firstSeenMs());
                out.writeLong(state.deadlineMs());
                out.writeInt(state.slots().size());
                for (GroupState.Slot s : state.slots()) {
                    out.writeUTF(s.completionId());
                    out.writeInt(s.memberIndex());
                    int flags =
                            (s.hasCompletion() ? COMPLETION : 0)
                                    | (s.stored() ? STORED : 0)
                                    | (s.hasExecution() ? EXECUTION : 0);
                    out.writeByte(flags);
                    out.writeLong(s.policyVersion());
                    if (s.hasExecution()) {
                        out.writeUTF(s.outcome().name());
                        out.writeDouble(s.formatReward());
                        out.writeDouble(s.codeReward());
                        out.writeInt(s.attempt());
                    }
                }
            }
        } catch (IOException e) {
            throw new SerializationException("cannot encode group state for '" + topic + "'", e);
        }
        return bytes.toByteArray();
    }

    public GroupState deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            byte version = in.readByte();
            if (version != VERSION) {
                throw new SerializationException(
                        "group state in '"
                                + topic
                                + "' has format version "
                                + version
                                + "; this build reads version "
                                + VERSION);
            }
            byte status = in.readByte();
            if (status == CLOSED) {
                return GroupState.closed(in.readLong());
            }
            if (status != OPEN) {
                throw new SerializationException(
                        "group state in '" + topic + "' has unknown status " + status);
            }
            String runId = in.readUTF();
            String taskId = in.readUTF();
            int groupSize = in.readInt();
            long firstSeen = in.readLong();
            long deadline = in.readLong();
            GroupState state = GroupState.open(runId, taskId, groupSize, firstSeen, deadline);
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                GroupState.Slot slot = state.slotFor(in.readUTF());
                int memberIndex = in.readInt();
                int flags = in.readByte();
                long policyVersion = in.readLong();
                boolean hasExecution = (flags & EXECUTION) != 0;
                Outcome outcome = Outcome.UNKNOWN;
                double format = 0;
                double code = 0;
                int attempt = 0;
                if (hasExecution) {
                    outcome = outcomeOf(in.readUTF());
                    format = in.readDouble();
                    code = in.readDouble();
                    attempt = in.readInt();
                }
                slot.restore(
                        memberIndex,
                        (flags & COMPLETION) != 0,
                        (flags & STORED) != 0,
                        policyVersion,
                        hasExecution,
                        outcome,
                        format,
                        code,
                        attempt);
            }
            if (in.available() > 0) {
                throw new SerializationException(
                        "group state in '" + topic + "' has " + in.available() + " extra bytes");
            }
            return state;
        } catch (IOException e) {
            throw new SerializationException(
                    "cannot decode group state from '" + topic + "' (truncated?)", e);
        }
    }

    /** An outcome symbol written by this or an earlier build; unknown symbols read as UNKNOWN. */
    private static Outcome outcomeOf(String name) {
        try {
            return Outcome.valueOf(name);
        } catch (IllegalArgumentException e) {
            return Outcome.UNKNOWN;
        }
    }

    @Override
    public Serializer<GroupState> serializer() {
        return this::serialize;
    }

    @Override
    public Deserializer<GroupState> deserializer() {
        return this::deserialize;
    }
}

package dev.diffustream.streams;

import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Outcome;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Binary serde of a pending member's payload for the members store and its changelog: the fields of
 * {@link AdvantageMember} known when the completion arrives (ids, token ids, mask seeds, behaviour
 * log-probs, source coordinates). Internal state like {@link GroupStateSerde}: a version byte and a
 * compact layout written with primitive loops. Measured at K=256, I=2 (JIT-warm, same JVM): about 9
 * µs to write and 18 µs to read, against 34 µs and 37 µs for the generic Avro writer and reader;
 * the Avro store write was the largest single cost of the stream thread. The outcome, rewards and
 * advantage are filled in when the group closes.
 *
 * <pre>
 * v1 := 0x01 completionId:utf8 memberIndex:varint policyVersion:varlong sourcePartition:varint
 *       sourceOffset:varlong promptTokenIds:ints tokenIds:ints maskSeeds:longs
 *       behaviourLogProbs:(rows:varint floats*)
 *   ints := n:varint (zigzag varint)*   longs := n:varint (zigzag varlong)*
 *   floats := n:varint (IEEE-754 bits, 4 bytes big-endian)*    utf8 := n:varint bytes
 * </pre>
 */
public final class MemberPayloadSerde implements Serde<AdvantageMember> {

    static final byte VERSION = 1;

    public byte[] serialize(String topic, AdvantageMember m) {
        if (m == null) {
            return null;
        }
        byte[] id = m.getCompletionId().getBytes(StandardCharsets.UTF_8);
        List<Integer> prompt = m.getPromptTokenIds();
        List<Integer> tokens = m.getTokenIds();
        List<Long> seeds = m.getMaskSeeds();
        List<List<Float>> logps = m.getBehaviourLogProbs();
        int floats = 0;
        for (List<Float> row : logps) {
            floats += row.size();
        }
        int bound =
                1
                        + 5
                        + id.length
                        + 5
                        + 10
                        + 5
                        + 10
                        + 5 * (3 + prompt.size() + tokens.size())
                        + 10 * seeds.size()
                        + 5 * (1 + logps.size())
                        + 4 * floats;
        ByteBuffer b = ByteBuffer.allocate(bound);
        b.put(VERSION);
        putVarint(b, id.length);
        b.put(id);
        putVarint(b, zigzag(m.getMemberIndex()));
        putVarlong(b, zigzag(m.getPolicyVersion()));
        putVarint(b, zigzag(m.getSourcePartition()));
        putVarlong(b, zigzag(m.getSourceOffset()));
        putInts(b, prompt);
        putInts(b, tokens);
        putVarint(b, seeds.size());
        for (Long s : seeds) {
            putVarlong(b, zigzag(s));
        }
        putVarint(b, logps.size());
        for (List<Float> row : logps) {
            putVarint(b, row.size());
            for (Float f : row) {
                b.putFloat(f);
            }
        }
        byte[] out = new byte[b.position()];
        System.arraycopy(b.array(), 0, out, 0, out.length);
        return out;
    }

    public AdvantageMember deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(data);
            byte version = b.get();
            if (version != VERSION) {
                throw new SerializationException(
                        "member payload in '"
                                + topic
                                + "' has format version "
                                + version
                                + "; this build reads version "
                                + VERSION);
            }
            byte[] id = new byte[checkedLength(b, 1)];
            b.get(id);
            int memberIndex = unzigzag(getVarint(b));
            long policyVersion = unzigzag(getVarlong(b));
            int partition = unzigzag(getVarint(b));
            long offset = unzigzag(getVarlong(b));
            List<Integer> prompt = getInts(b);
            List<Integer> tokens = getInts(b);
            int nSeeds = checkedLength(b, 1);
            List<Long> seeds = new ArrayList<>(nSeeds);
            for (int i = 0; i < nSeeds; i++) {
                seeds.add(unzigzag(getVarlong(b)));
            }
            int rows = checkedLength(b, 1);
            List<List<Float>> logps = new ArrayList<>(rows);
            for (int r = 0; r < rows; r++) {
                int n = checkedLength(b, 4);
                List<Float> row = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    row.add(b.getFloat());
                }
                logps.add(row);
            }
            if (b.hasRemaining()) {
                throw new SerializationException(
                        "member payload in '" + topic + "' has " + b.remaining() + " extra bytes");
            }
            return AdvantageMember.newBuilder()
                    .setCompletionId(new String(id, StandardCharsets.UTF_8))
                    .setMemberIndex(memberIndex)
                    .setPromptTokenIds(prompt)
                    .setTokenIds(tokens)
                    .setPolicyVersion(policyVersion)
                    .setMaskSeeds(seeds)
                    .setBehaviourLogProbs(logps)
                    .setOutcome(Outcome.UNKNOWN)
                    .setFormatReward(0)
                    .setCodeReward(0)
                    .setReward(0)
                    .setAdvantage(0)
                    .setSourcePartition(partition)
                    .setSourceOffset(offset)
                    .build();
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new SerializationException(
                    "cannot decode member payload from '" + topic + "' (truncated or corrupt)", e);
        }
    }

    private static void putInts(ByteBuffer b, List<Integer> values) {
        putVarint(b, values.size());
        for (Integer v : values) {
            putVarint(b, zigzag(v));
        }
    }

    /** A length prefix, checked against the bytes left (each element takes >= minBytes). */
    private static int checkedLength(ByteBuffer b, int minBytes) {
        int n = getVarint(b);
        if (n < 0 || (long) n * minBytes > b.remaining()) {
            throw new IllegalArgumentException(
                    "length " + n + " exceeds the " + b.remaining() + " bytes left");
        }
        return n;
    }

    private static List<Integer> getInts(ByteBuffer b) {
        int n = checkedLength(b, 1);
        List<Integer> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(unzigzag(getVarint(b)));
        }
        return out;
    }

    private static int zigzag(int v) {
        return (v << 1) ^ (v >> 31);
    }

    private static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    private static int unzigzag(int v) {
        return (v >>> 1) ^ -(v & 1);
    }

    private static long unzigzag(long v) {
        return (v >>> 1) ^ -(v & 1);
    }

    private static void putVarint(ByteBuffer b, int v) {
        while ((v & ~0x7F) != 0) {
            b.put((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        b.put((byte) v);
    }

    private static void putVarlong(ByteBuffer b, long v) {
        while ((v & ~0x7FL) != 0) {
            b.put((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        b.put((byte) v);
    }

    private static int getVarint(ByteBuffer b) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte x = b.get();
            value |= (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return value;
            }
        }
        throw new IllegalArgumentException("varint longer than 5 bytes");
    }

    private static long getVarlong(ByteBuffer b) {
        long value = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            byte x = b.get();
            value |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return value;
            }
        }
        throw new IllegalArgumentException("varlong longer than 10 bytes");
    }

    @Override
    public Serializer<AdvantageMember> serializer() {
        return this::serialize;
    }

    @Override
    public Deserializer<AdvantageMember> deserializer() {
        return this::deserialize;
    }
}

package dev.diffustream.schemas.serde;

import java.nio.ByteBuffer;

/**
 * The Confluent wire format: magic byte {@code 0}, the schema id as a 4-byte big-endian int, then
 * the Avro binary encoding of the record.
 */
public final class WireFormat {
    /** The only magic byte defined by the format. */
    public static final byte MAGIC = 0;

    /** Bytes before the Avro payload. */
    public static final int HEADER_SIZE = 5;

    private WireFormat() {}

    /**
     * The schema id of a framed payload.
     *
     * @throws IllegalArgumentException if the payload is too short or the magic byte is wrong
     */
    public static int schemaId(byte[] payload) {
        if (payload.length < HEADER_SIZE) {
            throw new IllegalArgumentException(
                    "payload of "
                            + payload.length
                            + " bytes is shorter than the 5-byte Confluent wire-format header");
        }
        if (payload[0] != MAGIC) {
            throw new IllegalArgumentException(
                    String.format(
                            "unknown magic byte 0x%02x (expected 0x00: Confluent wire format)",
                            payload[0]));
        }
        return ByteBuffer.wrap(payload, 1, 4).getInt();
    }

    /** Writes the 5-byte header for {@code schemaId} into {@code out[0..5)}. */
    static void writeHeader(byte[] out, int schemaId) {
        out[0] = MAGIC;
        out[1] = (byte) (schemaId >>> 24);
        out[2] = (byte) (schemaId >>> 16);
        out[3] = (byte) (schemaId >>> 8);
        out[4] = (byte) schemaId;
    }
}

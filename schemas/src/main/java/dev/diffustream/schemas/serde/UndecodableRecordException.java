package dev.diffustream.schemas.serde;

/**
 * A record's bytes could not be decoded. Carries where the record came from so the dead-letter path
 * can park the raw bytes and the consumer can move on.
 */
public final class UndecodableRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String topic;
    private final int partition;
    private final long offset;

    public UndecodableRecordException(String topic, int partition, long offset, Throwable cause) {
        super(
                "undecodable record at "
                        + topic
                        + "-"
                        + partition
                        + "@"
                        + offset
                        + ": "
                        + (cause == null ? "unknown reason" : cause.getMessage()),
                cause);
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
    }

    public String topic() {
        return topic;
    }

    public int partition() {
        return partition;
    }

    public long offset() {
        return offset;
    }
}

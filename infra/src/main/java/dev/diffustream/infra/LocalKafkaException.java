package dev.diffustream.infra;

/** The local broker could not be started; the message says what to check. */
public class LocalKafkaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LocalKafkaException(String message) {
        super(message);
    }

    public LocalKafkaException(String message, Throwable cause) {
        super(message, cause);
    }
}

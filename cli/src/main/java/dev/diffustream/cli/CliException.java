package dev.diffustream.cli;

/** A user-facing error: its message is printed as is, in one line, and the exit code is 1. */
public class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CliException(String message) {
        super(message);
    }

    public CliException(String message, Throwable cause) {
        super(message, cause);
    }
}

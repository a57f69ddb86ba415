package dev.diffustream.sandbox;

/**
 * The engine cannot start: the isolation tool is missing, the process lacks the privileges it
 * needs, or the first sandbox failed. The message says what to do.
 */
public class SandboxUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SandboxUnavailableException(String message) {
        super(message);
    }

    public SandboxUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}

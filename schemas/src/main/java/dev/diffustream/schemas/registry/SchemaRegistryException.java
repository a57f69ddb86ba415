package dev.diffustream.schemas.registry;

/**
 * A schema-registry call failed. The message always names the registry URL and, where there is one,
 * the subject; {@link #status()} is the HTTP status (0 if the registry could not be reached) and
 * {@link #errorCode()} the registry's own error code (e.g. 40401 subject not found, 409
 * incompatible, 42201 invalid schema), or 0.
 */
public class SchemaRegistryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final int errorCode;

    public SchemaRegistryException(String message, int status, int errorCode, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.errorCode = errorCode;
    }

    public SchemaRegistryException(String message, int status, int errorCode) {
        this(message, status, errorCode, null);
    }

    /** HTTP status, or 0 when the registry was unreachable. */
    public int status() {
        return status;
    }

    /** The registry's error code from the response body, or 0. */
    public int errorCode() {
        return errorCode;
    }

    /** True for a 409: the schema is incompatible with the subject's history. */
    public boolean isIncompatible() {
        return status == 409;
    }

    /** True for a 404 (subject, version or schema not found). */
    public boolean isNotFound() {
        return status == 404;
    }
}

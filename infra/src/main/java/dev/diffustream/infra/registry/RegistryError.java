package dev.diffustream.infra.registry;

/**
 * An error answered the way Confluent's registry answers it: an HTTP status and a body {@code
 * {"error_code": ..., "message": ...}}.
 */
public final class RegistryError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final int errorCode;

    public RegistryError(int status, int errorCode, String message) {
        super(message);
        this.status = status;
        this.errorCode = errorCode;
    }

    public int status() {
        return status;
    }

    public int errorCode() {
        return errorCode;
    }

    static RegistryError subjectNotFound(String subject) {
        return new RegistryError(404, 40401, "Subject '" + subject + "' not found.");
    }

    static RegistryError versionNotFound(String subject, String version) {
        return new RegistryError(
                404, 40402, "Version " + version + " not found for subject '" + subject + "'.");
    }

    static RegistryError schemaNotFound(String what) {
        return new RegistryError(404, 40403, what + " not found.");
    }

    static RegistryError noSubjectConfig(String subject) {
        return new RegistryError(
                404,
                40408,
                "Subject '" + subject + "' does not have subject-level compatibility configured");
    }

    static RegistryError invalidSchema(String reason) {
        return new RegistryError(422, 42201, "Invalid schema: " + reason);
    }

    static RegistryError invalidVersion(String version) {
        return new RegistryError(
                422,
                42202,
                "The specified version '"
                        + version
                        + "' is not a valid version id. Allowed values are between [1, 2^31-1] and"
                        + " the string \"latest\"");
    }

    static RegistryError invalidCompatibility(String level) {
        return new RegistryError(
                422,
                42203,
                "Invalid compatibility level '"
                        + level
                        + "'. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD,"
                        + " FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE");
    }

    static RegistryError store(String reason) {
        return new RegistryError(500, 50001, "Error in the backend data store: " + reason);
    }

    static RegistryError timeout(String reason) {
        return new RegistryError(500, 50002, "Operation timed out: " + reason);
    }
}

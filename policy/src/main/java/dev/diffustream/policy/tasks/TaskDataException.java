package dev.diffustream.policy.tasks;

import java.nio.file.Path;

/**
 * A task file that cannot be read: malformed JSON, a missing or mistyped field. Names the place.
 */
public class TaskDataException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final int line;

    /**
     * @param file the file being read
     * @param line 1-based line number, or 0 when the problem is not tied to a line
     * @param message what is wrong, without the location (it is prefixed here)
     */
    public TaskDataException(Path file, int line, String message) {
        this(file, line, message, null);
    }

    public TaskDataException(Path file, int line, String message, Throwable cause) {
        super((line > 0 ? file + ":" + line : String.valueOf(file)) + ": " + message, cause);
        this.file = file;
        this.line = line;
    }

    /** The file being read. */
    public Path file() {
        return file;
    }

    /** 1-based line number, or 0 when not tied to a line. */
    public int line() {
        return line;
    }
}

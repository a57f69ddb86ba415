package dev.diffustream.infra.registry;

import java.util.function.Consumer;

/**
 * Where the registry's records live. The registry never changes its state directly: it appends a
 * record and waits until the log has handed it back to the applier (write, then apply), so every
 * instance sharing the log applies the same records in the same order.
 */
interface SchemaLog extends AutoCloseable {

    /**
     * Replays the whole log into {@code applier}, then keeps feeding it new records (from any
     * writer) until closed. Returns once the replay has reached the end of the log.
     */
    void start(Consumer<LogRecord> applier);

    /** Appends a record and returns once the applier has been given it. */
    void append(LogRecord record);

    /** Returns once every record appended to the log before this call has been applied. */
    void catchUp();

    /** Where the log lives, for messages. */
    String describe();

    @Override
    void close();
}

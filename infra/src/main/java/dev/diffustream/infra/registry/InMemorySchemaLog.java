package dev.diffustream.infra.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** A log held in memory: a registry that forgets everything when it stops (unit tests). */
final class InMemorySchemaLog implements SchemaLog {

    private final List<LogRecord> records = new ArrayList<>();
    private Consumer<LogRecord> applier;

    @Override
    public synchronized void start(Consumer<LogRecord> applier) {
        this.applier = applier;
        records.forEach(applier);
    }

    @Override
    public synchronized void append(LogRecord record) {
        records.add(record);
        applier.accept(record);
    }

    @Override
    public void catchUp() {}

    @Override
    public String describe() {
        return "memory";
    }

    @Override
    public void close() {}
}

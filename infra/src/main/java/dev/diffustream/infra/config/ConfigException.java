package dev.diffustream.infra.config;

import java.util.List;

/**
 * A configuration could not be loaded. The message names the source (file and line, or environment
 * variable) and the key path of every problem, one per line.
 */
public class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(
                problems.size() == 1
                        ? problems.get(0)
                        : problems.size()
                                + " configuration problems:\n  "
                                + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    public ConfigException(String problem) {
        this(List.of(problem));
    }

    /** Each problem, one line each. */
    public List<String> problems() {
        return problems;
    }
}

package dev.diffustream.policy.tasks.builtin;

/**
 * Evaluating a generated expression on an input would raise in Python (ZeroDivisionError,
 * ValueError on an empty max, ...) or leaves what the Java evaluator models (overflow of a long,
 * non-ASCII text). The generator discards such inputs.
 */
final class PyEvalException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    PyEvalException(String message) {
        super(message);
    }
}

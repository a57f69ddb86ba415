package dev.diffustream.sandbox;

import java.util.List;
import java.util.Objects;

/**
 * One completion to execute.
 *
 * @param completionText the model's decoded text, as written (with its fenced python block)
 * @param tests Python test statements, each run in a fresh interpreter after the solution (may
 *     contain CRLF line breaks and tabs, as MBPP's do)
 * @param setupCode code run after the solution and before each test (MBPP {@code test_setup_code});
 *     empty for none
 */
public record ExecutionRequest(String completionText, List<String> tests, String setupCode) {

    public ExecutionRequest {
        Objects.requireNonNull(completionText, "completionText");
        Objects.requireNonNull(tests, "tests");
        for (int i = 0; i < tests.size(); i++) {
            if (tests.get(i) == null) {
                throw new IllegalArgumentException("test " + i + " is null");
            }
        }
        tests = List.copyOf(tests);
        setupCode = setupCode == null ? "" : setupCode;
    }

    public ExecutionRequest(String completionText, List<String> tests) {
        this(completionText, tests, "");
    }
}

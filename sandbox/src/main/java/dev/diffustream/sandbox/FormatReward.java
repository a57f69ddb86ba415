package dev.diffustream.sandbox;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text-only parts of the rewards (spec B.1 and B.2 step 2): the whole-string shape check, the
 * extraction of the python block, and the mapping of a syntax verdict to the format reward. The
 * syntax check itself parses untrusted text, so it runs inside the sandbox ({@link SandboxEngine}).
 */
public final class FormatReward {

    /** Spec B.1 step 1: the whole string, with {@code matches()} (not {@code find()}). */
    static final Pattern SHAPE =
            Pattern.compile(
                    "(?:(?!```)[\\s\\S])*?```python\\n(?:(?!```)[\\s\\S])*?```\\n", Pattern.DOTALL);

    /** Spec B.1 step 2 and B.2 step 2: the first python block (DOTALL, lazy). */
    static final Pattern BLOCK = Pattern.compile("```python\\n(.*?)```", Pattern.DOTALL);

    /** Format reward of a valid block that parses (spec B.1 step 3). */
    public static final double VALID = 1.0;

    /** Format reward of a well-shaped block with a syntax error (spec B.1 step 3). */
    public static final double SYNTAX_ERROR = 0.5;

    /** Format reward of a completion that fails the shape check (spec B.1 step 1). */
    public static final double BAD_SHAPE = 0.0;

    private FormatReward() {}

    /**
     * Spec B.1 step 1: exactly one fenced python block, no text after it, ending with the closing
     * fence and one newline.
     */
    public static boolean hasValidShape(String completion) {
        return SHAPE.matcher(completion).matches();
    }

    /**
     * The code of the first python block, exactly as written (not trimmed: spec B.2 step 2 runs it
     * as is; B.1 step 3 trims it before the syntax check).
     */
    public static Optional<String> firstPythonBlock(String completion) {
        Matcher m = BLOCK.matcher(completion);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }
}

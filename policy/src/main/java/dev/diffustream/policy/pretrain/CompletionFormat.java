package dev.diffustream.policy.pretrain;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shape check of the format reward (spec B.1), in Java: the whole decoded completion must be an
 * optional prefix without a triple backtick, {@code ```python\n}, a body without a triple backtick,
 * and {@code ```\n} ending the text. Used by the pretraining evaluation; the sandbox computes the
 * reward itself.
 */
public final class CompletionFormat {

    /** Spec B.1's regex, matched against the whole text with DOTALL. */
    public static final Pattern SHAPE =
            Pattern.compile(
                    "(?:(?!```)[\\s\\S])*?```python\\n(?:(?!```)[\\s\\S])*?```\\n", Pattern.DOTALL);

    private static final Pattern BLOCK = Pattern.compile("```python\\n(.*?)```", Pattern.DOTALL);

    private CompletionFormat() {}

    /** Whether the decoded completion (special tokens skipped) has the accepted shape. */
    public static boolean isValid(String text) {
        return SHAPE.matcher(text).matches();
    }

    /** The body of the first python block (spec B.2's extraction, untrimmed), or null. */
    public static String extractCode(String text) {
        Matcher m = BLOCK.matcher(text);
        return m.find() ? m.group(1) : null;
    }

    /**
     * Whether the completion is format-valid and its block is the reference solution (both with
     * surrounding whitespace trimmed).
     */
    public static boolean isExactMatch(String text, String referenceSolution) {
        if (!isValid(text)) {
            return false;
        }
        String code = extractCode(text);
        return code != null && code.strip().equals(referenceSolution.strip());
    }
}

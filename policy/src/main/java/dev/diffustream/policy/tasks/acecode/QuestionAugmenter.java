package dev.diffustream.policy.tasks.acecode;

import dev.diffustream.policy.tasks.DiffuCoderPrompts;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The question augmentation of spec C.3 ({@code transform_question_format}).
 *
 * <ol>
 *   <li>If the lower-cased question contains the substring {@code you} (also in "your", "layout",
 *       ...), keep only the row.
 *   <li>Otherwise take the completion with the highest {@code pass_rate} over <em>all</em>
 *       inferences (the first one on ties, as Python's {@code max}); its text before the first
 *       {@code ":\n"}, stripped of Python whitespace, is the signature. If it does not start with
 *       {@code def }, keep only the row.
 *   <li>Otherwise emit the row and a copy whose question is {@link
 *       DiffuCoderPrompts#completeProblem} of the signature (without {@code def }) and the original
 *       question.
 * </ol>
 *
 * A row without inferences keeps only itself (the release would raise on {@code max} of an empty
 * list).
 */
public final class QuestionAugmenter {

    private QuestionAugmenter() {}

    /** The row, followed by its augmented copy when the rules allow one. */
    public static List<AceCodeRow> augment(AceCodeRow row) {
        if (mentionsYou(row.question())) {
            return List.of(row);
        }
        Optional<String> signature = signature(row);
        if (signature.isEmpty()) {
            return List.of(row);
        }
        return List.of(
                row,
                row.withAugmentedQuestion(
                        DiffuCoderPrompts.completeProblem(signature.get(), row.question())));
    }

    /** {@code "you" in question.lower()}. */
    public static boolean mentionsYou(String question) {
        return question.toLowerCase(Locale.ROOT).contains("you");
    }

    /** The first inference with the highest pass rate, if any. */
    public static Optional<AceCodeRow.Inference> best(AceCodeRow row) {
        AceCodeRow.Inference best = null;
        for (AceCodeRow.Inference inf : row.inferences()) {
            if (best == null || inf.passRate() > best.passRate()) {
                best = inf;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The signature of the best completion without the leading {@code def } (e.g. {@code add(a,
     * b)}), or empty when there is none or it does not start with {@code def }.
     */
    public static Optional<String> signature(AceCodeRow row) {
        Optional<AceCodeRow.Inference> best = best(row);
        if (best.isEmpty()) {
            return Optional.empty();
        }
        String completion = best.get().completion();
        int cut = completion.indexOf(":\n");
        String head = pythonStrip(cut < 0 ? completion : completion.substring(0, cut));
        if (!head.startsWith("def ")) {
            return Optional.empty();
        }
        return Optional.of(head.substring(4));
    }

    /**
     * Python's {@code str.strip()}: removes leading and trailing characters that are {@code
     * isspace()}.
     */
    static String pythonStrip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isPythonSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isPythonSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    /** Python's {@code str.isspace()} for one character (Unicode whitespace per CPython). */
    static boolean isPythonSpace(char c) {
        return (c >= '\t' && c <= '\r')
                || (c >= '\u001c' && c <= ' ')
                || c == '\u0085'
                || c == '\u00a0'
                || c == '\u1680'
                || (c >= '\u2000' && c <= '\u200a')
                || c == '\u2028'
                || c == '\u2029'
                || c == '\u202f'
                || c == '\u205f'
                || c == '\u3000';
    }
}

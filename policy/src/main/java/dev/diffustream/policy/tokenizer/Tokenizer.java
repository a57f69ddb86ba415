package dev.diffustream.policy.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Text to token ids and back, with the special tokens the algorithm needs. Special ids always come
 * from here, never from literals (STYLE rule 11).
 */
public interface Tokenizer {

    /**
     * Encodes text; special-token strings in the text (e.g. {@code <|im_end|>}) map to their ids.
     */
    int[] encode(String text);

    /**
     * Decodes ids to text.
     *
     * @param skipSpecial drop special tokens (mask, pad, EOS, chat markers), as the reward's decode
     *     does (spec A.8)
     */
    String decode(int[] ids, boolean skipSpecial);

    /** Number of ids (V). */
    int vocabSize();

    /** {@code <|mask|>}: the diffusion mask token. */
    int maskId();

    /** {@code <|im_end|>}: the EOS that ends a completion and bounds the loss mask (spec A.2). */
    int imEndId();

    /** {@code <|endoftext|>}. */
    int endOfTextId();

    /** The padding id used after EOS and for left padding ({@code <|dlm_pad|>} where it exists). */
    int padId();

    /** Whether {@code id} is a special token. */
    boolean isSpecial(int id);

    /**
     * The ChatML prompt of spec A.1: an optional system turn, the user turn, and the assistant
     * generation prompt ({@code <|im_start|>assistant\n}).
     *
     * @param system system message, or {@code null}/empty for none
     */
    default String chatPrompt(String system, String user) {
        StringBuilder sb = new StringBuilder();
        if (system != null && !system.isEmpty()) {
            sb.append("<|im_start|>system\n").append(system).append("<|im_end|>\n");
        }
        sb.append("<|im_start|>user\n").append(user).append("<|im_end|>\n");
        sb.append("<|im_start|>assistant\n");
        return sb.toString();
    }

    /**
     * Writes this tokenizer into {@code dir} (a {@code tokenizer.json} and whatever else it needs)
     * so that a checkpoint directory is self-describing; {@link Tokenizers#load} reads it back.
     *
     * @throws UnsupportedOperationException if this tokenizer cannot be saved
     */
    default void save(Path dir) throws IOException {
        throw new UnsupportedOperationException(getClass().getName() + " cannot be saved");
    }
}

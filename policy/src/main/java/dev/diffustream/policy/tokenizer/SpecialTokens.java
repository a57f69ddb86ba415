package dev.diffustream.policy.tokenizer;

import java.util.List;

/** The special-token strings of the Qwen2.5 / DiffuCoder vocabulary (strings, never ids). */
public final class SpecialTokens {

    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    public static final String MASK = "<|mask|>";
    public static final String DLM_PAD = "<|dlm_pad|>";

    /** All five, in the id order of {@link CharTokenizer}. */
    public static final List<String> ALL = List.of(END_OF_TEXT, IM_START, IM_END, MASK, DLM_PAD);

    private SpecialTokens() {}
}

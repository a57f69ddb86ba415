package dev.diffustream.policy.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The built-in character-level tokenizer of the tiny model: one id per character, plus the five
 * special tokens of {@link SpecialTokens}.
 *
 * <p>Standard vocabulary (V = 102): ids 0–4 are {@code <|endoftext|>}, {@code <|im_start|>}, {@code
 * <|im_end|>}, {@code <|mask|>}, {@code <|dlm_pad|>}; 5 is {@code \t}, 6 is {@code \n}, and 7–101
 * are the printable ASCII characters {@code ' '} … {@code '~'} in code-point order.
 *
 * <p>Special-token strings in the text encode to their ids. A character outside the vocabulary
 * (e.g. {@code '\r'} or {@code 'é'}) is an error that names it and its position, unless a
 * replacement character is configured ({@link #withReplacement}), in which case it encodes as that
 * character; the choice is saved with the tokenizer.
 *
 * <p>Saved as a small {@code tokenizer.json} of our own ({@code "diffustream_tokenizer": "char"}),
 * next to the checkpoint, so that a checkpoint directory is self-describing ({@link
 * Tokenizers#load}).
 */
public final class CharTokenizer implements Tokenizer {

    /** Value of the {@code diffustream_tokenizer} key in our {@code tokenizer.json}. */
    public static final String KIND = "char";

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final CharTokenizer STANDARD = new CharTokenizer(standardChars(), null);

    private final String chars;
    private final Character replacement;
    private final int[] idOfChar; // indexed by char, -1 if absent
    private final int specials = SpecialTokens.ALL.size();

    private CharTokenizer(String chars, Character replacement) {
        this.chars = chars;
        this.replacement = replacement;
        this.idOfChar = new int[Character.MAX_VALUE + 1];
        Arrays.fill(idOfChar, -1);
        for (int i = 0; i < chars.length(); i++) {
            char c = chars.charAt(i);
            if (idOfChar[c] >= 0) {
                throw new IllegalArgumentException(
                        "character " + describe(c) + " appears twice in the vocabulary");
            }
            idOfChar[c] = specials + i;
        }
        if (replacement != null && idOfChar[replacement] < 0) {
            throw new IllegalArgumentException(
                    "replacement " + describe(replacement) + " is not in the vocabulary");
        }
    }

    /** The standard vocabulary (tab, newline, printable ASCII); unknown characters are errors. */
    public static CharTokenizer standard() {
        return STANDARD;
    }

    /** This vocabulary, encoding unknown characters as {@code replacement}. */
    public CharTokenizer withReplacement(char replacement) {
        return new CharTokenizer(chars, replacement);
    }

    private static String standardChars() {
        StringBuilder sb = new StringBuilder("\t\n");
        for (char c = ' '; c <= '~'; c++) {
            sb.append(c);
        }
        return sb.toString();
    }

    @Override
    public int[] encode(String text) {
        int[] out = new int[text.length()];
        int n = 0;
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '<' && text.startsWith("<|", i)) {
                int special = specialAt(text, i);
                if (special >= 0) {
                    out[n++] = special;
                    i += SpecialTokens.ALL.get(special).length();
                    continue;
                }
            }
            int id = idOfChar[c];
            if (id < 0) {
                if (replacement == null) {
                    throw new IllegalArgumentException(
                            "character "
                                    + describe(c)
                                    + " at index "
                                    + i
                                    + " is not in the character vocabulary (tab, newline and"
                                    + " printable ASCII); configure a replacement to map it");
                }
                id = idOfChar[replacement];
            }
            out[n++] = id;
            i++;
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    private static int specialAt(String text, int i) {
        for (int s = 0; s < SpecialTokens.ALL.size(); s++) {
            if (text.startsWith(SpecialTokens.ALL.get(s), i)) {
                return s;
            }
        }
        return -1;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecial) {
        StringBuilder sb = new StringBuilder(ids.length);
        for (int k = 0; k < ids.length; k++) {
            int id = ids[k];
            if (id < 0 || id >= vocabSize()) {
                throw new IllegalArgumentException(
                        "token id "
                                + id
                                + " at index "
                                + k
                                + " is outside [0, "
                                + vocabSize()
                                + ")");
            }
            if (id < specials) {
                if (!skipSpecial) {
                    sb.append(SpecialTokens.ALL.get(id));
                }
            } else {
                sb.append(chars.charAt(id - specials));
            }
        }
        return sb.toString();
    }

    @Override
    public int vocabSize() {
        return specials + chars.length();
    }

    @Override
    public int maskId() {
        return SpecialTokens.ALL.indexOf(SpecialTokens.MASK);
    }

    @Override
    public int imEndId() {
        return SpecialTokens.ALL.indexOf(SpecialTokens.IM_END);
    }

    @Override
    public int endOfTextId() {
        return SpecialTokens.ALL.indexOf(SpecialTokens.END_OF_TEXT);
    }

    @Override
    public int padId() {
        return SpecialTokens.ALL.indexOf(SpecialTokens.DLM_PAD);
    }

    /** {@code <|im_start|>}. */
    public int imStartId() {
        return SpecialTokens.ALL.indexOf(SpecialTokens.IM_START);
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < specials;
    }

    /** The configured replacement of unknown characters, or {@code null} (unknown = error). */
    public Character replacement() {
        return replacement;
    }

    @Override
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectNode root = JSON.createObjectNode();
        root.put("diffustream_tokenizer", KIND);
        root.put("version", 1);
        root.putPOJO("special_tokens", SpecialTokens.ALL);
        root.put("characters", chars);
        if (replacement == null) {
            root.putNull("replacement");
        } else {
            root.put("replacement", String.valueOf(replacement));
        }
        Files.writeString(dir.resolve(Tokenizers.TOKENIZER_JSON), JSON.writeValueAsString(root));
    }

    /** Reads a {@code tokenizer.json} written by {@link #save}. */
    public static CharTokenizer load(Path tokenizerJson) throws IOException {
        JsonNode root = JSON.readTree(tokenizerJson.toFile());
        return fromJson(root, tokenizerJson);
    }

    static CharTokenizer fromJson(JsonNode root, Path where) {
        if (!KIND.equals(root.path("diffustream_tokenizer").asText())) {
            throw new IllegalArgumentException(where + " is not a diffustream char tokenizer");
        }
        List<String> specials = new ArrayList<>();
        root.path("special_tokens").forEach(n -> specials.add(n.asText()));
        if (!specials.equals(SpecialTokens.ALL)) {
            throw new IllegalArgumentException(
                    where + ": special_tokens must be " + SpecialTokens.ALL + ", got " + specials);
        }
        JsonNode chars = root.get("characters");
        if (chars == null || !chars.isTextual()) {
            throw new IllegalArgumentException(where + ": missing string 'characters'");
        }
        JsonNode rep = root.get("replacement");
        Character replacement = null;
        if (rep != null && !rep.isNull()) {
            if (rep.asText().length() != 1) {
                throw new IllegalArgumentException(
                        where + ": 'replacement' must be one character, got " + rep);
            }
            replacement = rep.asText().charAt(0);
        }
        try {
            return new CharTokenizer(chars.asText(), replacement);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static String describe(char c) {
        return String.format(
                java.util.Locale.ROOT,
                "U+%04X%s",
                (int) c,
                Character.isISOControl(c) ? "" : " '" + c + "'");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CharTokenizer t
                && t.chars.equals(chars)
                && java.util.Objects.equals(t.replacement, replacement);
    }

    @Override
    public int hashCode() {
        return chars.hashCode() * 31 + java.util.Objects.hashCode(replacement);
    }

    @Override
    public String toString() {
        return "CharTokenizer(V=" + vocabSize() + ", replacement=" + replacement + ")";
    }
}

package dev.diffustream.policy.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face {@code tokenizer.json} (e.g. DiffuCoder's Qwen2.5 BPE) loaded offline through
 * DJL's {@link HuggingFaceTokenizer}, without added BOS/EOS, truncation or padding: the algorithm
 * adds its special tokens itself (spec A.1: {@code add_special_tokens=False}).
 *
 * <p>Special ids come from the tokenizer's {@code added_tokens} (spec §0): mask = {@code <|mask|>},
 * EOS = {@code <|im_end|>}, {@code <|endoftext|>}, and pad = {@code <|dlm_pad|>} or, when the
 * vocabulary has none, {@code <|endoftext|>}. The mask, {@code <|im_end|>} and {@code
 * <|endoftext|>} must exist; a tokenizer without them cannot drive a masked-diffusion policy.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> COMPANIONS =
            List.of("tokenizer_config.json", "special_tokens_map.json");

    private final Path source;
    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> added;
    private final Set<Integer> special;
    private final int vocabSize;
    private final int maskId;
    private final int imEndId;
    private final int endOfTextId;
    private final int padId;

    private HfTokenizer(Path source, HuggingFaceTokenizer tokenizer, JsonNode root) {
        this.source = source;
        this.tokenizer = tokenizer;
        this.added = new HashMap<>();
        this.special = new HashSet<>();
        int maxId = -1;
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt(-1);
            String content = t.path("content").asText();
            added.put(content, id);
            if (t.path("special").asBoolean(false)) {
                special.add(id);
            }
            maxId = Math.max(maxId, id);
        }
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) { // BPE, WordLevel, WordPiece: {token: id}
            for (Iterator<JsonNode> it = vocab.elements(); it.hasNext(); ) {
                maxId = Math.max(maxId, it.next().asInt());
            }
        } else if (vocab.isArray()) { // Unigram: [[token, score], …]
            maxId = Math.max(maxId, vocab.size() - 1);
        }
        this.vocabSize = maxId + 1;
        this.maskId = required(SpecialTokens.MASK);
        this.imEndId = required(SpecialTokens.IM_END);
        this.endOfTextId = required(SpecialTokens.END_OF_TEXT);
        this.padId = added.getOrDefault(SpecialTokens.DLM_PAD, endOfTextId);
    }

    /**
     * Loads {@code tokenizer.json} from a checkpoint directory (or the file itself), offline.
     *
     * @throws IOException if the file is missing or unreadable
     * @throws IllegalArgumentException if a required special token is missing
     */
    public static HfTokenizer load(Path dirOrFile) throws IOException {
        Path file =
                Files.isDirectory(dirOrFile)
                        ? dirOrFile.resolve(Tokenizers.TOKENIZER_JSON)
                        : dirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new IOException("no tokenizer file at " + file);
        }
        JsonNode root = JSON.readTree(file.toFile());
        HuggingFaceTokenizer tok =
                HuggingFaceTokenizer.builder()
                        .optTokenizerPath(file)
                        .optAddSpecialTokens(false)
                        .optTruncation(false)
                        .optPadding(false)
                        .build();
        try {
            return new HfTokenizer(file, tok, root);
        } catch (IllegalArgumentException e) {
            tok.close();
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private int required(String token) {
        Integer id = added.get(token);
        if (id == null) {
            throw new IllegalArgumentException(
                    "the tokenizer has no "
                            + token
                            + " among its added_tokens; a masked-diffusion policy needs "
                            + List.of(
                                    SpecialTokens.MASK,
                                    SpecialTokens.IM_END,
                                    SpecialTokens.END_OF_TEXT));
        }
        return id;
    }

    @Override
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecial) {
        long[] wide = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException(
                        "token id "
                                + ids[i]
                                + " at index "
                                + i
                                + " is outside [0, "
                                + vocabSize
                                + ")");
            }
            wide[i] = ids[i];
        }
        return tokenizer.decode(wide, skipSpecial);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int maskId() {
        return maskId;
    }

    @Override
    public int imEndId() {
        return imEndId;
    }

    @Override
    public int endOfTextId() {
        return endOfTextId;
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public boolean isSpecial(int id) {
        return special.contains(id);
    }

    /** The id of an added token, or -1. */
    public int addedTokenId(String content) {
        return added.getOrDefault(content, -1);
    }

    /** Copies the source {@code tokenizer.json} (and its companion configs) into {@code dir}. */
    @Override
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path target = dir.resolve(Tokenizers.TOKENIZER_JSON);
        if (!Files.isSameFile(source.getParent(), dir)) {
            Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
            for (String companion : COMPANIONS) {
                Path c = source.resolveSibling(companion);
                if (Files.isRegularFile(c)) {
                    Files.copy(c, dir.resolve(companion), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    @Override
    public String toString() {
        return "HfTokenizer(" + source + ", V=" + vocabSize + ")";
    }
}

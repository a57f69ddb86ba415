package dev.diffustream.policy.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Picks the tokenizer a checkpoint directory describes. */
public final class Tokenizers {

    /** File name of a tokenizer inside a checkpoint directory. */
    public static final String TOKENIZER_JSON = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private Tokenizers() {}

    /**
     * Loads the tokenizer of {@code dir}: our {@link CharTokenizer} when its {@code tokenizer.json}
     * says {@code "diffustream_tokenizer": "char"}, a Hugging Face {@link HfTokenizer} when it has
     * a {@code "model"} section.
     *
     * @throws IOException if there is no readable {@code tokenizer.json}
     * @throws IllegalArgumentException if the file is neither
     */
    public static Tokenizer load(Path dir) throws IOException {
        Path file = dir.resolve(TOKENIZER_JSON);
        if (!Files.isRegularFile(file)) {
            throw new IOException("no " + TOKENIZER_JSON + " in " + dir);
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException("cannot parse " + file + ": " + e.getMessage(), e);
        }
        if (root.has("diffustream_tokenizer")) {
            return CharTokenizer.fromJson(root, file);
        }
        if (root.has("model")) {
            return HfTokenizer.load(file);
        }
        throw new IllegalArgumentException(
                file
                        + " is neither a diffustream tokenizer ('diffustream_tokenizer' key) nor a"
                        + " Hugging Face one ('model' section)");
    }
}

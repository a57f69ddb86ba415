package dev.diffustream.policy.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A handmade WordLevel {@code tokenizer.json} (test resources), loaded offline through DJL. */
class HfTokenizerTest {

    @TempDir Path tmp;

    static Path fixture() throws Exception {
        return Paths.get(HfTokenizerTest.class.getResource("/model/hf-tokenizer").toURI());
    }

    @Test
    void shouldTakeSpecialIdsFromTheAddedTokensWhenLoaded() throws Exception {
        try (HfTokenizer tok = HfTokenizer.load(fixture())) {
            assertThat(tok.endOfTextId()).isEqualTo(20);
            assertThat(tok.imEndId()).isEqualTo(22);
            assertThat(tok.maskId()).isEqualTo(23);
            assertThat(tok.padId()).isEqualTo(24);
            assertThat(tok.addedTokenId("<|im_start|>")).isEqualTo(21);
            assertThat(tok.vocabSize()).isEqualTo(25);
            assertThat(tok.isSpecial(23)).isTrue();
            assertThat(tok.isSpecial(6)).isFalse();
        }
    }

    @Test
    void shouldEncodeChatMlWithSpecialIdsAndNoAddedTokensWhenEncoding() throws Exception {
        try (HfTokenizer tok = HfTokenizer.load(fixture())) {
            // given
            String prompt = tok.chatPrompt("You are helpful", "Write def add(a, b)");

            // when
            int[] ids = tok.encode(prompt + "<|mask|><|mask|>");

            // then
            assertThat(ids)
                    .containsExactly(
                            21, 11, 17, 18, 19, 22, 21, 12, 14, 1, 2, 3, 7, 10, 8, 4, 22, 21, 13,
                            23, 23);
            assertThat(tok.decode(new int[] {1, 2, 3, 7, 10, 8, 4, 5, 22, 24}, true))
                    .isEqualTo("def add ( a , b ) :");
            assertThat(tok.decode(new int[] {6, 22}, false)).contains("<|im_end|>");
        }
    }

    @Test
    void shouldFallBackToEndOfTextForPaddingWhenThereIsNoDlmPad() throws Exception {
        // given: the fixture without <|dlm_pad|>
        Path dir = withoutAddedToken("<|dlm_pad|>");

        // when
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            // then
            assertThat(tok.padId()).isEqualTo(tok.endOfTextId()).isEqualTo(20);
        }
    }

    @Test
    void shouldExplainWhatIsMissingWhenTheMaskTokenIsAbsent() throws Exception {
        Path dir = withoutAddedToken("<|mask|>");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no <|mask|>")
                .hasMessageContaining("tokenizer.json");
    }

    @Test
    void shouldPickTheHfTokenizerAndCopyItWhenACheckpointHasOne() throws Exception {
        // given
        Tokenizer tok = Tokenizers.load(fixture());

        // when
        tok.save(tmp);
        Tokenizer copy = Tokenizers.load(tmp);

        // then
        assertThat(tok).isInstanceOf(HfTokenizer.class);
        assertThat(copy).isInstanceOf(HfTokenizer.class);
        assertThat(copy.encode("def add")).containsExactly(1, 2);
        ((HfTokenizer) tok).close();
        ((HfTokenizer) copy).close();
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"neither\": 1}");
        assertThatThrownBy(() -> Tokenizers.load(tmp))
                .hasMessageContaining("neither a diffustream");
    }

    private Path withoutAddedToken(String content) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(fixture().resolve("tokenizer.json").toFile());
        ArrayNode kept = json.createArrayNode();
        root.get("added_tokens")
                .forEach(
                        t -> {
                            if (!t.get("content").asText().equals(content)) {
                                kept.add(t);
                            }
                        });
        root.set("added_tokens", kept);
        Path dir = Files.createDirectories(tmp.resolve("variant"));
        Files.writeString(dir.resolve("tokenizer.json"), root.toString());
        return dir;
    }
}

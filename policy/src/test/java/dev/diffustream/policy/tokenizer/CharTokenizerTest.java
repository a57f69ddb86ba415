package dev.diffustream.policy.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CharTokenizerTest {

    private final CharTokenizer tok = CharTokenizer.standard();

    @TempDir Path tmp;

    @Test
    void shouldRoundTripPythonCodeWhenEncodedAndDecoded() {
        // given
        String code = "```python\ndef add(a, b):\n\treturn a + b  # sum ~ {x}[0]\n```\n";

        // when
        int[] ids = tok.encode(code);

        // then: one id per character, no special ids
        assertThat(ids).hasSize(code.length());
        assertThat(tok.decode(ids, false)).isEqualTo(code);
        assertThat(java.util.Arrays.stream(ids).noneMatch(tok::isSpecial)).isTrue();
    }

    @Test
    void shouldHaveTheDocumentedLayoutWhenStandard() {
        assertThat(tok.vocabSize()).isEqualTo(102);
        assertThat(tok.endOfTextId()).isEqualTo(0);
        assertThat(tok.imStartId()).isEqualTo(1);
        assertThat(tok.imEndId()).isEqualTo(2);
        assertThat(tok.maskId()).isEqualTo(3);
        assertThat(tok.padId()).isEqualTo(4);
        assertThat(tok.encode("\t\n ~")).containsExactly(5, 6, 7, 101);
        assertThat(tok.isSpecial(4)).isTrue();
        assertThat(tok.isSpecial(5)).isFalse();
    }

    @Test
    void shouldEncodeSpecialTokenStringsToTheirIdsWhenTheyAppearInText() {
        // when
        int[] ids =
                tok.encode(
                        "x<|im_end|><|mask|><|mask|><|dlm_pad|><|endoftext|><|im_start|><|nope|>");

        // then: the five specials are single ids; an unknown <|…|> is plain characters
        assertThat(ids).startsWith(tok.encode("x")[0], 2, 3, 3, 4, 0, 1);
        assertThat(ids).hasSize(7 + "<|nope|>".length());
        assertThat(tok.decode(ids, true)).isEqualTo("x<|nope|>");
        assertThat(tok.decode(ids, false))
                .isEqualTo(
                        "x<|im_end|><|mask|><|mask|><|dlm_pad|><|endoftext|><|im_start|><|nope|>");
    }

    @Test
    void shouldBuildTheChatMlPromptWhenAskedForOne() {
        // when
        String prompt = tok.chatPrompt("You are a helpful assistant.", "Add a and b.");

        // then (spec A.1)
        assertThat(prompt)
                .isEqualTo(
                        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                                + "<|im_start|>user\nAdd a and b.<|im_end|>\n"
                                + "<|im_start|>assistant\n");
        int[] ids = tok.encode(prompt);
        assertThat(ids[0]).isEqualTo(tok.imStartId());
        assertThat(tok.decode(ids, false)).isEqualTo(prompt);
        assertThat(tok.chatPrompt(null, "hi")).startsWith("<|im_start|>user\nhi");
    }

    @Test
    void shouldNameTheCharacterAndPositionWhenItIsNotInTheVocabulary() {
        assertThatThrownBy(() -> tok.encode("ab\u00e9c"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("U+00E9 'é'")
                .hasMessageContaining("index 2");
        assertThatThrownBy(() -> tok.encode("a\r\n"))
                .hasMessageContaining("U+000D")
                .hasMessageContaining("index 1");
        assertThatThrownBy(() -> tok.decode(new int[] {5, 102}, false))
                .hasMessageContaining("token id 102 at index 1");
    }

    @Test
    void shouldEncodeUnknownCharactersAsTheReplacementWhenConfigured() {
        // given
        CharTokenizer lenient = tok.withReplacement('?');

        // when / then
        assertThat(lenient.decode(lenient.encode("caf\u00e9\r"), false)).isEqualTo("caf??");
        assertThatThrownBy(() -> tok.withReplacement('\u00e9'))
                .hasMessageContaining("not in the vocabulary");
    }

    @Test
    void shouldReloadTheSameTokenizerWhenSavedNextToACheckpoint() throws IOException {
        // given
        CharTokenizer lenient = tok.withReplacement('?');

        // when
        lenient.save(tmp);
        Tokenizer back = Tokenizers.load(tmp);

        // then
        assertThat(back).isInstanceOf(CharTokenizer.class).isEqualTo(lenient);
        assertThat(back.encode("\u00e9")).containsExactly(lenient.encode("?"));
        assertThat(back.maskId()).isEqualTo(tok.maskId());
    }
}

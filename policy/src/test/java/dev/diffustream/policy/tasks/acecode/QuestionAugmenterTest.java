package dev.diffustream.policy.tasks.acecode;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Spec C.3, branch by branch, on fixture rows and small hand-made rows. */
class QuestionAugmenterTest {

    private static AceCodeRow row(String question, AceCodeRow.Inference... inferences) {
        return new AceCodeRow(
                "r",
                "oss",
                question,
                List.of("assert True"),
                List.of(inferences),
                false,
                Path.of("mem"),
                1);
    }

    private static AceCodeRow.Inference inf(String code, double rate) {
        return new AceCodeRow.Inference(code, "qwen_coder_2.5", rate);
    }

    @Test
    void shouldEmitTheExactAugmentedText() {
        // when
        List<AceCodeRow> out = QuestionAugmenter.augment(Fixture.row("row-a"));
        // then the original, then the copy with the exact text of process_data.py's f-string
        assertThat(out).hasSize(2);
        assertThat(out.get(0)).isEqualTo(Fixture.row("row-a"));
        assertThat(out.get(1).augmented()).isTrue();
        assertThat(out.get(1).id()).isEqualTo("row-a");
        assertThat(out.get(1).question())
                .isEqualTo(
                        "Please complete the following problem:\n"
                                + "```\n"
                                + "def add(a: int, b: int) -> int:\n"
                                + "    \"\"\"\n"
                                + "    Return the sum of two integers a and b.\n"
                                + "    \"\"\"\n"
                                + "```\n");
        assertThat(out.get(1).testCases()).isEqualTo(out.get(0).testCases());
    }

    @Test
    void shouldNotAugmentQuestionsContainingYouAnywhere() {
        // "your" (row-b), "layout" (row-c), and an upper-case "You"
        assertThat(QuestionAugmenter.augment(Fixture.row("row-b"))).hasSize(1);
        assertThat(QuestionAugmenter.augment(Fixture.row("row-c"))).hasSize(1);
        assertThat(QuestionAugmenter.mentionsYou("You are given x.")).isTrue();
        assertThat(QuestionAugmenter.mentionsYou("Return x.")).isFalse();
        assertThat(QuestionAugmenter.augment(row("YOU must add.", inf("def add(a):\n  pass", 1))))
                .hasSize(1);
    }

    @Test
    void shouldNotAugmentWhenTheBestCompletionDoesNotStartWithDef() {
        // row-e: the best (qwen, 1.0) is "import math\n\ndef area(r):..." -> head "import
        // math\n\ndef area(r)"
        assertThat(QuestionAugmenter.signature(Fixture.row("row-e"))).isEmpty();
        assertThat(QuestionAugmenter.augment(Fixture.row("row-e"))).hasSize(1);
    }

    @Test
    void shouldTakeTheFirstBestOnTiesAndStripPythonWhitespace() {
        // row-f: llama (0.75, "\n  def lead(x):...") comes before gpt-4o (0.75)
        assertThat(QuestionAugmenter.signature(Fixture.row("row-f"))).contains("lead(x)");
        // a non-breaking space and a form feed are Python whitespace too
        AceCodeRow r =
                row("Return x.", inf("\u00a0\fdef f(x) :\nreturn x", 1), inf("def g(x):\n", 0.5));
        assertThat(QuestionAugmenter.signature(r)).contains("f(x)");
        // without ":\n" the whole completion is the head
        assertThat(QuestionAugmenter.signature(row("Return x.", inf("def h(x): return x", 1))))
                .contains("h(x): return x");
    }

    @Test
    void shouldKeepOnlyTheRowWithoutInferences() {
        assertThat(QuestionAugmenter.best(Fixture.row("row-h"))).isEmpty();
        assertThat(QuestionAugmenter.augment(Fixture.row("row-h")))
                .containsExactly(Fixture.row("row-h"));
    }

    @Test
    void shouldUseAllInferencesNotOnlyTheFilterModels() {
        // row-g has only a gpt-4o inference, yet it is augmented with its signature
        List<AceCodeRow> out = QuestionAugmenter.augment(Fixture.row("row-g"));
        assertThat(out).hasSize(2);
        assertThat(out.get(1).question()).contains("\ndef g(x):\n    \"\"\"\n    Double x.\n");
    }

    @Test
    void shouldMatchPythonIsspace() {
        // the full set of str.isspace() characters in CPython 3.11
        String spaces =
                "\t\n\u000b\f\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003"
                        + "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
        for (char c : spaces.toCharArray()) {
            assertThat(QuestionAugmenter.isPythonSpace(c)).as("U+%04X", (int) c).isTrue();
        }
        assertThat(QuestionAugmenter.isPythonSpace('\u200b')).isFalse();
        assertThat(QuestionAugmenter.isPythonSpace('x')).isFalse();
        assertThat(QuestionAugmenter.pythonStrip(spaces + "def x" + spaces)).isEqualTo("def x");
    }
}

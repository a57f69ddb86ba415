package dev.diffustream.policy.pretrain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

class PretrainDataTest {

    private static final CharTokenizer TOK = CharTokenizer.standard();

    private static CodeTask task(String ref) {
        return new CodeTask(
                "t/1",
                "Write f.",
                List.of("assert f(1) == 2"),
                "f",
                null,
                ref,
                "test",
                TaskSplit.TRAIN,
                "");
    }

    @Test
    void shouldDecodeTargetToFormatValidBlockWhenSpecialTokensSkipped() {
        // given
        String ref = "def f(x):\n    return x + 1";
        // when
        int[] target = PretrainData.targetIds(TOK, task(ref), 64);
        String text = TOK.decode(target, true);
        // then
        assertThat(target).hasSize(64);
        assertThat(text).isEqualTo("```python\n" + ref + "\n```\n");
        assertThat(CompletionFormat.isValid(text)).isTrue();
        assertThat(CompletionFormat.isExactMatch(text, ref)).isTrue();
        int eos = "```python\n".length() + ref.length() + "\n```\n".length();
        assertThat(target[eos]).isEqualTo(TOK.imEndId());
        assertThat(target[63]).isEqualTo(TOK.padId());
    }

    @Test
    void shouldSkipTasksThatDoNotFitAndTruncatePromptsFromTheLeft() {
        // given a reference too long for K = 20
        PretrainData.Examples ex =
                PretrainData.build(
                        List.of(task("def f(x):\n    return x + 1"), task("x")),
                        TOK,
                        "sys",
                        10,
                        20);
        // then
        assertThat(ex.skipped()).isEqualTo(1);
        assertThat(ex.examples()).hasSize(1);
        int[] full = TOK.encode(TOK.chatPrompt("sys", "Write f."));
        assertThat(ex.examples().get(0).prompt())
                .containsExactly(java.util.Arrays.copyOfRange(full, full.length - 10, full.length));
    }

    @Test
    void shouldApplySpecShapeRule() {
        // the four fixtures of spec B.3 (shape part) and a trailing-text case
        assertThat(CompletionFormat.isValid("```python\ndef f():\n    return 1\n```\n")).isTrue();
        assertThat(CompletionFormat.isValid("Here:\n```python\nx = 1\n```\n")).isTrue();
        assertThat(CompletionFormat.isValid("```python\ndef f(:\n```\n")).isTrue();
        assertThat(CompletionFormat.isValid("```python\nx = 1\n")).isFalse();
        assertThat(CompletionFormat.isValid("```python\na\n```\n```python\nb\n```\n")).isFalse();
        assertThat(CompletionFormat.isValid("```python\nx = 1\n```\nmore")).isFalse();
        assertThat(CompletionFormat.isValid("```python\nx = 1\n```")).isFalse();
        assertThat(CompletionFormat.isExactMatch("```python\nx = 2\n```\n", "x = 1")).isFalse();
    }

    @Test
    void shouldCoverEveryExampleOncePerEpochWhenOrdering() {
        Pretrainer.DataOrder order = new Pretrainer.DataOrder(10, 3L);
        boolean[] seen = new boolean[10];
        for (int i = 10; i < 20; i++) {
            seen[order.at(i)] = true;
        }
        assertThat(seen).containsOnly(true);
        assertThat(new Pretrainer.DataOrder(10, 3L).at(13)).isEqualTo(order.at(13));
    }
}

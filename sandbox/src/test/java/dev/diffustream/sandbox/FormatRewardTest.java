package dev.diffustream.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FormatRewardTest {

    @Test
    void shouldAcceptOneBlockEndingTheTextWithFenceAndNewline() {
        // given text before the block and the closing fence + one newline at the very end
        String text = "Here is my solution:\n```python\ndef f():\n    return 1\n```\n";

        // then
        assertThat(FormatReward.hasValidShape(text)).isTrue();
        assertThat(FormatReward.firstPythonBlock(text)).contains("def f():\n    return 1\n");
    }

    @Test
    void shouldRejectTwoBlocks() {
        String text = "```python\na = 1\n```\n```python\nb = 2\n```\n";
        assertThat(FormatReward.hasValidShape(text)).isFalse();
        // extraction still takes the first block (the code reward is 0 anyway: format < 1)
        assertThat(FormatReward.firstPythonBlock(text)).contains("a = 1\n");
    }

    @Test
    void shouldRejectMissingClosingFence() {
        assertThat(FormatReward.hasValidShape("```python\ndef f():\n    return 1\n")).isFalse();
    }

    @Test
    void shouldRejectTextAfterTheClosingFence() {
        assertThat(FormatReward.hasValidShape("```python\nx = 1\n```\nDone.\n")).isFalse();
        assertThat(FormatReward.hasValidShape("```python\nx = 1\n```\n\n")).isFalse();
    }

    @Test
    void shouldRequireTheNewlineAfterTheClosingFence() {
        // the README sample output ends in ``` right before EOS (spec B.1 end-of-text caveat)
        assertThat(FormatReward.hasValidShape("```python\nx = 1\n```")).isFalse();
    }

    @Test
    void shouldRequireTheNewlineAfterTheOpeningFence() {
        assertThat(FormatReward.hasValidShape("```python x = 1\n```\n")).isFalse();
        assertThat(FormatReward.hasValidShape("```py\nx = 1\n```\n")).isFalse();
    }

    @Test
    void shouldNotTrimTheExtractedCode() {
        // given a block with leading indentation and trailing blank lines
        String text = "```python\n    x = 1\n\n\n```\n";

        // then the code is kept as written (B.2 step 2); only the syntax check trims (B.1 step 3)
        assertThat(FormatReward.hasValidShape(text)).isTrue();
        assertThat(FormatReward.firstPythonBlock(text)).contains("    x = 1\n\n\n");
    }

    @Test
    void shouldFindNoBlockInPlainText() {
        assertThat(FormatReward.firstPythonBlock("def f(): pass")).isEmpty();
        assertThat(FormatReward.hasValidShape("def f(): pass\n")).isFalse();
    }

    @Test
    void shouldAcceptAnEmptyBlock() {
        String text = "```python\n```\n";
        assertThat(FormatReward.hasValidShape(text)).isTrue();
        assertThat(FormatReward.firstPythonBlock(text)).contains("");
    }
}

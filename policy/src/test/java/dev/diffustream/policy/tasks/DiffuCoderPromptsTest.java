package dev.diffustream.policy.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class DiffuCoderPromptsTest {

    @Test
    void shouldAppendTheFirstTestCaseToAQuestionWithoutFencedBlock() {
        assertThat(
                        DiffuCoderPrompts.userPrompt(
                                "Add a and b.",
                                List.of("assert add(1, 2) == 3", "assert add(0, 0) == 0")))
                .isEqualTo("Add a and b.\nTest cases: assert add(1, 2) == 3");
    }

    @Test
    void shouldLeaveAQuestionWithAFencedBlockAlone() {
        String fenced = "Fix:\n```\nx = 1\n```\n";
        assertThat(DiffuCoderPrompts.userPrompt(fenced, List.of("assert x == 1")))
                .isEqualTo(fenced);
        // only a fence on a line of its own counts: an inline ```python does not
        String inline = "Use ```python blocks.";
        assertThat(DiffuCoderPrompts.userPrompt(inline, List.of("assert 1")))
                .isEqualTo(inline + "\nTest cases: assert 1");
        // a fence ending the text without a newline does not count either ("\n```\n" is the rule)
        String trailing = "Code:\n```";
        assertThat(DiffuCoderPrompts.userPrompt(trailing, List.of("assert 1")))
                .endsWith("\nTest cases: assert 1");
    }

    @Test
    void shouldFailWhenATestCaseIsNeededButThereIsNone() {
        assertThatThrownBy(() -> DiffuCoderPrompts.userPrompt("Add.", List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no test cases");
        assertThat(DiffuCoderPrompts.userPrompt("a\n```\nb\n```\n", List.of())).isNotEmpty();
    }

    @Test
    void shouldBuildTheCompleteProblemTextOfSpecC3() {
        assertThat(DiffuCoderPrompts.completeProblem("f(x)", "Return x.\nMore."))
                .isEqualTo(
                        "Please complete the following problem:\n```\ndef f(x):\n    \"\"\"\n    Return x.\nMore.\n    \"\"\"\n```\n");
    }

    @Test
    void shouldShapeTheExpectedCompletionAsSpecB1Accepts() {
        assertThat(CodeTasks.expectedCompletion("def f():\n    return 1\n\n"))
                .isEqualTo("```python\ndef f():\n    return 1\n```\n");
        assertThat(CodeTasks.expectedCompletion("x = 1\r\n")).isEqualTo("```python\nx = 1\n```\n");
        CodeTask noReference =
                new CodeTask(
                        "t", "p", List.of("assert 1"), null, null, null, "s", TaskSplit.TEST, null);
        assertThatThrownBy(() -> CodeTasks.expectedCompletion(noReference))
                .hasMessageContaining("task t");
    }
}

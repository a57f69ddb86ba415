package dev.diffustream.policy.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.policy.tasks.acecode.AceCodeSuite;
import dev.diffustream.policy.tasks.acecode.Difficulty;
import dev.diffustream.policy.tasks.builtin.BuiltinSuite;
import dev.diffustream.policy.tasks.evalplus.HumanEvalSuite;
import dev.diffustream.policy.tasks.evalplus.MbppSuite;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TaskSuitesTest {

    private static Path resources() {
        try {
            return Path.of(TaskSuitesTest.class.getResource("/tasks").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void shouldOpenTheBuiltinSuiteWithSeedAndCounts() {
        TaskSuite plain = TaskSuites.open("builtin");
        assertThat(plain).isInstanceOf(BuiltinSuite.class);
        assertThat(((BuiltinSuite) plain).seed()).isEqualTo(BuiltinSuite.DEFAULT_SEED);
        TaskSuite small = TaskSuites.open("builtin:7?train=12&heldout=6");
        assertThat(((BuiltinSuite) small).seed()).isEqualTo(7);
        assertThat(small.load(TaskSplit.TRAIN)).hasSize(12);
        assertThat(small.load(TaskSplit.HELDOUT)).hasSize(6);
        assertThat(small.load(TaskSplit.TRAIN))
                .isEqualTo(new BuiltinSuite(7, 12, 6).load(TaskSplit.TRAIN));
    }

    @Test
    void shouldOpenFileSuitesRelativeToTheBaseDirectory() {
        TaskSuite ace = TaskSuites.open("acecode:acecode/fixture.jsonl", resources());
        assertThat(ace).isInstanceOf(AceCodeSuite.class);
        assertThat(((AceCodeSuite) ace).filter().difficulty()).isEqualTo(Difficulty.HARD);
        assertThat(ace.load(TaskSplit.TRAIN))
                .extracting(CodeTask::id)
                .containsExactly("row-a", "row-a/augmented");
        TaskSuite medium =
                TaskSuites.open(
                        "acecode:acecode/fixture.jsonl?difficulty=medium&models=qwen_coder_2.5, llama3_instruct&augment=false",
                        resources());
        assertThat(((AceCodeSuite) medium).filter().modelNames())
                .isEqualTo(Set.of("qwen_coder_2.5", "llama3_instruct"));
        assertThat(medium.load(TaskSplit.TRAIN))
                .extracting(CodeTask::id)
                .containsExactly("row-c", "row-f");
        assertThat(TaskSuites.open("humaneval:evalplus/humaneval-sample.jsonl.gz", resources()))
                .isInstanceOf(HumanEvalSuite.class);
        TaskSuite mbpp =
                TaskSuites.open("mbpp:" + resources().resolve("evalplus/mbpp-sample.jsonl"));
        assertThat(mbpp).isInstanceOf(MbppSuite.class);
        assertThat(mbpp.load(TaskSplit.TEST)).hasSize(3);
    }

    @Test
    void shouldRejectMalformedSpecsWithTheSpecInTheMessage() {
        assertThatThrownBy(() -> TaskSuites.open("gsm8k:x.jsonl"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown task suite 'gsm8k'")
                .hasMessageContaining("humaneval:PATH");
        assertThatThrownBy(() -> TaskSuites.open("builtin:seven"))
                .hasMessageContaining("seed must be an integer in 'builtin:seven'");
        assertThatThrownBy(() -> TaskSuites.open("builtin?size=3"))
                .hasMessageContaining("unknown key 'size'")
                .hasMessageContaining("[heldout, train]");
        assertThatThrownBy(() -> TaskSuites.open("builtin?train=-1"))
                .hasMessageContaining("non-negative");
        assertThatThrownBy(() -> TaskSuites.open("acecode"))
                .hasMessageContaining("a file path is required in 'acecode'");
        assertThatThrownBy(
                        () ->
                                TaskSuites.open(
                                        "acecode:acecode/fixture.jsonl?difficulty=extreme",
                                        resources()))
                .hasMessageContaining("unknown difficulty 'extreme'");
        assertThatThrownBy(
                        () ->
                                TaskSuites.open(
                                        "acecode:acecode/fixture.jsonl?augment=yes", resources()))
                .hasMessageContaining("augment must be true or false");
        assertThatThrownBy(
                        () ->
                                TaskSuites.open(
                                        "mbpp:evalplus/mbpp-sample.jsonl?difficulty=hard",
                                        resources()))
                .hasMessageContaining("allowed: none");
        assertThatThrownBy(() -> TaskSuites.open("builtin?train"))
                .hasMessageContaining("expected key=value");
        assertThatThrownBy(() -> TaskSuites.open(" "))
                .hasMessageContaining("empty task suite spec");
    }

    @Test
    void shouldFailAtOnceOnAMissingFile() {
        assertThatThrownBy(() -> TaskSuites.open("humaneval:nowhere.jsonl.gz", resources()))
                .isInstanceOf(TaskDataException.class)
                .hasMessageContaining("nowhere.jsonl.gz")
                .hasMessageContaining("file not found");
    }
}

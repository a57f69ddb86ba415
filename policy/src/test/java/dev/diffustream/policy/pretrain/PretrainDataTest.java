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
    void shouldSplitBatchIntoConditionalAndJointRowsWhenJointFractionIsSet() {
        // given 4 examples, batch 4, a quarter joint
        List<CodeTask> tasks = new FixtureSuite().load(TaskSplit.TRAIN).subList(0, 4);
        PretrainData.Examples ex = PretrainData.build(tasks, TOK, "sys", 200, 64);
        dev.diffustream.policy.config.PretrainConfig d =
                dev.diffustream.policy.config.PretrainConfig.defaults();
        dev.diffustream.policy.config.PretrainConfig cfg =
                new dev.diffustream.policy.config.PretrainConfig(
                        d.seed(),
                        d.steps(),
                        4,
                        d.learningRate(),
                        d.lrSchedule(),
                        d.warmupRatio(),
                        d.minLrRate(),
                        d.adamBeta1(),
                        d.adamBeta2(),
                        d.adamEpsilon(),
                        d.weightDecay(),
                        d.maxGradNorm(),
                        d.maskEps(),
                        0.25,
                        200,
                        64,
                        "sys",
                        0,
                        1,
                        0,
                        1,
                        d.evalSampler());
        // when
        Pretrainer.StepBatch batch =
                Pretrainer.batchFor(0, cfg, ex.examples(), new Pretrainer.DataOrder(4, 1L), TOK);
        // then 3 conditional rows and 1 joint row whose "completion" is the rest of the whole text
        assertThat(batch.conditional().rows()).isEqualTo(3);
        assertThat(batch.joint().rows()).isEqualTo(1);
        assertThat(batch.joint().promptLength()).isEqualTo(1);
        int which = new Pretrainer.DataOrder(4, 1L).at(3);
        PretrainData.Example e = ex.examples().get(which);
        int[] joint = batch.joint().completions()[0];
        assertThat(joint).hasSize(e.prompt().length - 1 + 64);
        assertThat(TOK.decode(joint, false)).endsWith(TOK.decode(e.target(), false));
        assertThat(batch.jointTargets()[0]).containsOnly(1f);
        assertThat(batch.joint().promptToken(0, 0)).isEqualTo(e.prompt()[0]);
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

package dev.diffustream.policy.tasks.acecode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The whole preparation of spec §C on the fixture, down to the prompt text. */
class AceCodeSuiteTest {

    @Test
    void shouldPrepareTheReleaseWayByDefault() {
        // given the default suite: hard filter, augmentation on
        AceCodeSuite suite = new AceCodeSuite(Fixture.path());
        // when
        List<CodeTask> tasks = suite.load(TaskSplit.TRAIN);
        // then row-a and its augmented copy, right after it
        assertThat(tasks).extracting(CodeTask::id).containsExactly("row-a", "row-a/augmented");
        CodeTask original = tasks.get(0);
        // the question has no fenced block: spec C.4 appends the first test case
        assertThat(original.prompt())
                .isEqualTo(
                        "Return the sum of two integers a and b.\nTest cases: assert add(1, 2) == 3");
        // the augmented question has one: no test case
        assertThat(tasks.get(1).prompt())
                .isEqualTo(
                        "Please complete the following problem:\n```\ndef add(a: int, b: int) -> int:\n"
                                + "    \"\"\"\n    Return the sum of two integers a and b.\n    \"\"\"\n```\n");
        assertThat(tasks)
                .allSatisfy(
                        t -> {
                            assertThat(t.source()).isEqualTo("acecode");
                            assertThat(t.split()).isEqualTo(TaskSplit.TRAIN);
                            assertThat(t.family()).isEqualTo("oss");
                            assertThat(t.entryPoint()).isEqualTo("add");
                            assertThat(t.tests())
                                    .containsExactly(
                                            "assert add(1, 2) == 3", "assert add(-1, 1) == 0");
                            // the best completion passes every test: it is the reference
                            assertThat(t.referenceSolution())
                                    .isEqualTo(
                                            "def add(a: int, b: int) -> int:\n    return a + b\n");
                        });
    }

    @Test
    void shouldKeepEveryRowAndAugmentWhereTheRulesAllowWithoutFilter() {
        AceCodeSuite suite = new AceCodeSuite(Fixture.path(), DifficultyFilter.none(), true);
        List<CodeTask> tasks = suite.load(TaskSplit.TRAIN);
        assertThat(tasks)
                .extracting(CodeTask::id)
                .containsExactly(
                        "row-a",
                        "row-a/augmented",
                        "row-b",
                        "row-c",
                        "4",
                        "4/augmented",
                        "row-e",
                        "row-f",
                        "row-f/augmented",
                        "row-g",
                        "row-g/augmented",
                        "row-h");
        CodeTask fenced = tasks.get(4);
        // the original question of row 4 has a fenced block: no test case appended
        assertThat(fenced.prompt())
                .isEqualTo(
                        "Fix the function below.\n```\ndef inc(x):\n    return x\n```\nIt should add one.");
        CodeTask noInferences = tasks.get(11);
        assertThat(noInferences.prompt())
                .isEqualTo(
                        "Return the maximum of a list.\nTest cases: assert biggest([1, 3]) == 3");
        assertThat(noInferences.entryPoint()).isNull();
        assertThat(noInferences.referenceSolution()).isNull();
        assertThat(noInferences.family()).isEmpty();
        // row-e's best completion is not a def: no entry point, but a reference (pass rate 1)
        assertThat(tasks.get(6).entryPoint()).isNull();
        assertThat(tasks.get(6).referenceSolution()).startsWith("import math");
        // row-f's best pass rate is 0.75: no reference
        assertThat(tasks.get(7).entryPoint()).isEqualTo("lead");
        assertThat(tasks.get(7).referenceSolution()).isNull();
    }

    @Test
    void shouldSkipAugmentationWhenDisabled() {
        AceCodeSuite suite =
                new AceCodeSuite(
                        Fixture.path(),
                        new DifficultyFilter(Difficulty.EASY, DifficultyFilter.DEFAULT_MODEL_NAMES),
                        false);
        assertThat(suite.load(TaskSplit.TRAIN))
                .extracting(CodeTask::id)
                .containsExactly("4", "row-e");
        assertThat(suite.rows()).noneMatch(AceCodeRow::augmented);
    }

    @Test
    void shouldExtractTheReferenceFromAFencedBestCompletion() {
        AceCodeRow row =
                new AceCodeRow(
                        "f",
                        "oss",
                        "Return one.",
                        List.of("assert one() == 1"),
                        List.of(
                                new AceCodeRow.Inference(
                                        "Here:\n```python\ndef one():\n    return 1\n```\nDone.",
                                        "m",
                                        1.0)),
                        false,
                        Fixture.path(),
                        1);
        assertThat(AceCodeSuite.toTask(row).referenceSolution())
                .isEqualTo("def one():\n    return 1\n");
    }

    @Test
    void shouldOnlyHaveATrainSplit() {
        AceCodeSuite suite = new AceCodeSuite(Fixture.path());
        assertThatThrownBy(() -> suite.load(TaskSplit.TEST))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("only the TRAIN split");
        assertThat(suite.name()).isEqualTo("acecode");
    }
}

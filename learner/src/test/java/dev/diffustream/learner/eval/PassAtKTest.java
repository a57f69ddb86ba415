package dev.diffustream.learner.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.diffustream.learner.TinyPolicies;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.schemas.config.RewardWeights;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PassAtKTest {

    @Test
    void shouldMatchHandComputedValuesWhenSomeSamplesPass() {
        // pass@k = 1 − C(n−c, k) / C(n, k)
        assertThat(PassAtK.passAtK(5, 2, 1)).isCloseTo(0.4, within(1e-12)); // 1 − 3/5
        assertThat(PassAtK.passAtK(5, 2, 2)).isCloseTo(0.7, within(1e-12)); // 1 − 3/10
        assertThat(PassAtK.passAtK(5, 2, 3)).isCloseTo(0.9, within(1e-12)); // 1 − 1/10
        assertThat(PassAtK.passAtK(5, 2, 4)).isEqualTo(1.0); // C(3, 4) = 0
        assertThat(PassAtK.passAtK(10, 3, 5)).isCloseTo(1 - 21.0 / 252, within(1e-12));
        assertThat(PassAtK.passAtK(10, 1, 1)).isCloseTo(0.1, within(1e-12));
        assertThat(PassAtK.passAtK(200, 13, 10))
                .isCloseTo(1 - binomialRatio(187, 200, 10), within(1e-12));
    }

    @Test
    void shouldBeZeroOrOneWhenNoneOrAllPass() {
        for (int k = 1; k <= 6; k++) {
            assertThat(PassAtK.passAtK(6, 0, k)).isZero();
            assertThat(PassAtK.passAtK(6, 6, k)).isEqualTo(1.0);
        }
    }

    @Test
    void shouldGrowWithKWhenSamplesAreMixed() {
        double previous = 0;
        for (int k = 1; k <= 8; k++) {
            double p = PassAtK.passAtK(8, 2, k);
            assertThat(p).isGreaterThanOrEqualTo(previous).isBetween(0.0, 1.0);
            previous = p;
        }
    }

    @Test
    void shouldRejectKWhenLargerThanN() {
        assertThatThrownBy(() -> PassAtK.passAtK(3, 1, 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("k = 4 > n = 3");
    }

    @Test
    void shouldAverageEstimatesOverTasksWhenEvaluatingAPolicy() {
        // given two tasks, 5 samples each, and a scorer under which the first 2 samples of task a
        // pass and none of task b (format 1 when solved, 0.5 otherwise)
        List<CodeTask> tasks = List.of(task("a"), task("b"));
        Map<String, Integer> passing = Map.of("a", 2, "b", 0);
        List<CompletionScorer.Request> seen = new ArrayList<>();
        CompletionScorer scorer =
                requests -> {
                    seen.addAll(requests);
                    Map<String, Integer> count = new HashMap<>();
                    List<CompletionScorer.Score> out = new ArrayList<>();
                    for (CompletionScorer.Request r : requests) {
                        String id = r.setupCode();
                        int i = count.merge(id, 1, Integer::sum);
                        boolean ok = i <= passing.get(id);
                        out.add(
                                new CompletionScorer.Score(
                                        ok ? 1.0 : 0.5, ok ? 1.0 : 0.0, ok ? "PASSED" : "FAILED"));
                    }
                    return out;
                };
        PassAtK eval =
                new PassAtK(
                        SamplerConfig.defaults().withLength(8, 8),
                        "",
                        40,
                        scorer,
                        3,
                        new RewardWeights(2.0, 0.5));
        List<Integer> progress = new ArrayList<>();

        // when a tiny real policy is evaluated
        PassAtK.Result r;
        try (PolicyModel model = TinyPolicies.create(3)) {
            r = eval.evaluate(model, TinyPolicies.TOKENIZER, tasks, 5, 17L, progress::add);
        }

        // then every sample was scored against its own task's tests, in task order
        assertThat(seen).hasSize(10);
        assertThat(seen.subList(0, 5)).allMatch(q -> q.tests().equals(List.of("assert a()")));
        assertThat(seen.subList(5, 10)).allMatch(q -> q.tests().equals(List.of("assert b()")));
        assertThat(seen).allMatch(q -> q.completionText() != null);
        // sampled in batches of 3 rows
        assertThat(progress).containsExactly(3, 6, 9, 10);
        // and the figures are the task means of the unbiased estimates (hand-computed)
        assertThat(r.tasks()).isEqualTo(2);
        assertThat(r.samplesPerTask()).isEqualTo(5);
        assertThat(r.passAtK()).containsOnlyKeys(1, 2, 3, 4, 5);
        assertThat(r.passAt1()).isCloseTo(0.2, within(1e-12));
        assertThat(r.passAtK().get(2)).isCloseTo(0.35, within(1e-12));
        assertThat(r.passAtK().get(3)).isCloseTo(0.45, within(1e-12));
        assertThat(r.passAtK().get(5)).isCloseTo(0.5, within(1e-12));
        assertThat(r.formatValidRate()).isCloseTo(0.2, within(1e-12));
        assertThat(r.meanReward()).isCloseTo((2 * 2.5 + 8 * 0.25) / 10, within(1e-12));
        assertThat(r.perTask())
                .containsExactly(
                        new PassAtK.TaskResult("a", 5, 2, 2), new PassAtK.TaskResult("b", 5, 0, 0));
        // and every sample is kept with the text that was scored and its score, in task order
        assertThat(r.samples()).hasSize(10);
        for (int i = 0; i < 10; i++) {
            PassAtK.Sample s = r.samples().get(i);
            assertThat(s.taskId()).isEqualTo(i < 5 ? "a" : "b");
            assertThat(s.sample()).isEqualTo(i % 5);
            assertThat(s.text()).isEqualTo(seen.get(i).completionText());
            assertThat(s.solved()).isEqualTo(i < 2);
            assertThat(s.outcome()).isEqualTo(i < 2 ? "PASSED" : "FAILED");
            assertThat(s.formatReward()).isEqualTo(i < 2 ? 1.0 : 0.5);
        }
    }

    @Test
    void shouldSampleSameTextsWhenSameSeed() {
        // given a scorer that only records what it is asked
        List<String> first = new ArrayList<>();
        List<String> second = new ArrayList<>();
        List<String> other = new ArrayList<>();
        List<CodeTask> tasks = List.of(task("a"));
        try (PolicyModel model = TinyPolicies.create(4)) {
            // when the same evaluation runs twice with one seed and once with another
            evaluate(model, tasks, 5L, first);
            evaluate(model, tasks, 5L, second);
            evaluate(model, tasks, 6L, other);
        }
        // then the same seed samples the same completions
        assertThat(second).isEqualTo(first).hasSize(4);
        assertThat(other).isNotEqualTo(first);
    }

    private static void evaluate(
            PolicyModel model, List<CodeTask> tasks, long seed, List<String> texts) {
        CompletionScorer recording =
                requests -> {
                    List<CompletionScorer.Score> out = new ArrayList<>();
                    for (CompletionScorer.Request q : requests) {
                        texts.add(q.completionText());
                        out.add(new CompletionScorer.Score(0, 0, "FAILED"));
                    }
                    return out;
                };
        new PassAtK(
                        SamplerConfig.defaults().withLength(8, 8),
                        "",
                        40,
                        recording,
                        4,
                        new RewardWeights(2.0, 0.5))
                .evaluate(model, TinyPolicies.TOKENIZER, tasks, 4, seed, n -> {});
    }

    /** A task whose id is also its setup code, so the scorer can tell requests apart. */
    private static CodeTask task(String id) {
        return new CodeTask(
                id,
                "Write " + id + "().",
                List.of("assert " + id + "()"),
                id,
                id,
                null,
                "t",
                TaskSplit.HELDOUT,
                "");
    }

    /** C(a, k) / C(n, k) as the product of (a − i) / (n − i), i < k. */
    private static double binomialRatio(int a, int n, int k) {
        double r = 1;
        for (int i = 0; i < k; i++) {
            r *= (double) (a - i) / (n - i);
        }
        return r;
    }
}

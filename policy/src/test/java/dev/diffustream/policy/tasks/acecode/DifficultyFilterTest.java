package dev.diffustream.policy.tasks.acecode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Spec C.2 on the hand-computed fixture: see {@link Fixture} for the arithmetic. */
class DifficultyFilterTest {

    private static List<String> ids(List<AceCodeRow> rows) {
        return rows.stream().map(AceCodeRow::id).toList();
    }

    @Test
    void shouldTakeAccsFromTheChosenModelsOnly() {
        DifficultyFilter filter = DifficultyFilter.hard();
        // row-a has a gpt-4o inference at 1.0 that must not count
        assertThat(filter.accs(Fixture.row("row-a"))).containsExactly(0.0, 0.5);
        assertThat(filter.accs(Fixture.row("row-g"))).isEmpty();
        assertThat(filter.accs(Fixture.row("row-h"))).isEmpty();
        assertThat(DifficultyFilter.DEFAULT_MODEL_NAMES)
                .containsExactlyInAnyOrder("qwen_coder_2.5", "llama3_instruct");
    }

    @Test
    void shouldComputeThresholdsOverRowsWithAccs() {
        // when
        DifficultyFilter.Thresholds t = DifficultyFilter.hard().thresholds(Fixture.rows());
        // then (hand-computed in Fixture)
        assertThat(t.rowsWithAccs()).isEqualTo(6);
        assertThat(t.meanP20()).isEqualTo(0.25);
        assertThat(t.stdP40()).isEqualTo(0.25);
        assertThat(t.meanP25()).isEqualTo(0.3125);
        assertThat(t.meanP75()).isEqualTo(0.6875);
    }

    @Test
    void shouldKeepLowMeanThenHighStdRowsWhenHard() {
        // row-b passes the mean filter (0 <= .25) but not the std filter (0 < .25): the two filters
        // apply in sequence with thresholds taken from the full input
        assertThat(ids(DifficultyFilter.hard().apply(Fixture.rows()))).containsExactly("row-a");
    }

    @Test
    void shouldKeepTheMiddleWhenMediumAndTheTopWhenEasy() {
        assertThat(
                        ids(
                                new DifficultyFilter(
                                                Difficulty.MEDIUM,
                                                DifficultyFilter.DEFAULT_MODEL_NAMES)
                                        .apply(Fixture.rows())))
                .containsExactly("row-c", "row-f");
        assertThat(
                        ids(
                                new DifficultyFilter(
                                                Difficulty.EASY,
                                                DifficultyFilter.DEFAULT_MODEL_NAMES)
                                        .apply(Fixture.rows())))
                .containsExactly("4", "row-e");
    }

    @Test
    void shouldKeepEveryRowWhenNone() {
        assertThat(ids(DifficultyFilter.none().apply(Fixture.rows()))).isEqualTo(Fixture.IDS);
    }

    @Test
    void shouldUseAConfiguredModelSet() {
        // with qwen only: p20 = 0 and p40 = 0, so hard keeps the three rows whose qwen rate is 0
        DifficultyFilter qwenOnly = new DifficultyFilter(Difficulty.HARD, Set.of("qwen_coder_2.5"));
        assertThat(ids(qwenOnly.apply(Fixture.rows()))).containsExactly("row-a", "row-b", "row-c");
        // gpt-4o only: accs a [1], f [.75], g [1]; sorted means [.75, 1, 1], p20 at index
        // 2 * 0.2 = 0.4 -> .75 + (1 - .75) * .4 = .85; only f has mean <= .85; stds all 0, p40 = 0
        DifficultyFilter gptOnly = new DifficultyFilter(Difficulty.HARD, Set.of("gpt-4o"));
        assertThat(gptOnly.thresholds(Fixture.rows()).meanP20()).isEqualTo(0.85);
        assertThat(ids(gptOnly.apply(Fixture.rows()))).containsExactly("row-f");
    }

    @Test
    void shouldDropRowsWithoutAccsInsteadOfPoisoningThePercentiles() {
        // given only rows with accs, the thresholds are the same as with the empty-accs rows
        // present
        List<AceCodeRow> withAccs =
                Fixture.rows().stream()
                        .filter(r -> !r.id().equals("row-g") && !r.id().equals("row-h"))
                        .toList();
        assertThat(DifficultyFilter.hard().thresholds(withAccs))
                .isEqualTo(DifficultyFilter.hard().thresholds(Fixture.rows()));
        // and an empty-accs row is never kept by a threshold filter
        DifficultyFilter easy =
                new DifficultyFilter(Difficulty.EASY, DifficultyFilter.DEFAULT_MODEL_NAMES);
        assertThat(easy.keeps(easy.thresholds(Fixture.rows()), Fixture.row("row-g"))).isFalse();
    }

    @Test
    void shouldFailClearlyWhenNoRowHasAnInferenceOfTheModels() {
        DifficultyFilter typo = new DifficultyFilter(Difficulty.HARD, Set.of("qwen-coder-2.5"));
        assertThatThrownBy(() -> typo.apply(Fixture.rows()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("qwen-coder-2.5")
                .hasMessageContaining("8");
        assertThatThrownBy(() -> new DifficultyFilter(Difficulty.HARD, Set.of()))
                .hasMessageContaining("model name");
    }

    @Test
    void shouldParseDifficultyNames() {
        assertThat(Difficulty.parse("Hard")).isEqualTo(Difficulty.HARD);
        assertThat(Difficulty.parse("none")).isEqualTo(Difficulty.NONE);
        assertThatThrownBy(() -> Difficulty.parse("extreme"))
                .hasMessageContaining("extreme")
                .hasMessageContaining("[none, easy, medium, hard]");
    }
}

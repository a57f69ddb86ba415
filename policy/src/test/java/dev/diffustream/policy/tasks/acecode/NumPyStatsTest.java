package dev.diffustream.policy.tasks.acecode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;

class NumPyStatsTest {

    @Test
    void shouldComputeHandWorkedExamples() {
        // mean([0, 0.5]) = 0.25; std = sqrt(((0-.25)^2 + (.5-.25)^2) / 2) = sqrt(0.0625) = 0.25
        assertThat(NumPyStats.mean(new double[] {0, 0.5})).isEqualTo(0.25);
        assertThat(NumPyStats.std(new double[] {0, 0.5})).isEqualTo(0.25);
        // population std of [0, 0, 1, 1] = sqrt(4 * 0.25 / 4) = 0.5 (the sample std would be
        // 0.577...)
        assertThat(NumPyStats.std(new double[] {0, 0, 1, 1})).isEqualTo(0.5);
        // percentile 75 of [0, .25, .5, .5, .75, 1]: virtual index 5 * 0.75 = 3.75, between
        // sorted[3] = .5 and sorted[4] = .75, fraction .75 >= .5 so NumPy computes from the upper
        // neighbour: .75 - (.75 - .5) * (1 - .75) = .6875
        double[] means = {1, 0.5, 0, 0.75, 0.25, 0.5};
        assertThat(NumPyStats.percentile(means, 75)).isEqualTo(0.6875);
        // percentile 25: index 1.25 between .25 and .5 -> .25 + .25 * .25 = .3125
        assertThat(NumPyStats.percentile(means, 25)).isEqualTo(0.3125);
        // percentile 20: index 5 * 0.2 = 1.0 exactly -> sorted[1] = .25
        assertThat(NumPyStats.percentile(means, 20)).isEqualTo(0.25);
        assertThat(NumPyStats.percentile(new double[] {3}, 40)).isEqualTo(3);
    }

    @Test
    void shouldSumPairwiseLikeNumPyNotSequentially() {
        // given 9 copies of 0.1: a sequential sum gives 0.8999999999999999; NumPy's pairwise sum
        // adds the first 8 in 8 accumulators, combines them as ((.1+.1)+(.1+.1))+((.1+.1)+(.1+.1))
        // = 0.8, then adds the 9th: 0.9 (NumPy 1.24.2: np.sum([0.1]*9) == 0.9, np.mean == 0.1)
        double[] tenths = new double[9];
        java.util.Arrays.fill(tenths, 0.1);
        double sequential = 0;
        for (double v : tenths) {
            sequential += v;
        }
        assertThat(sequential).isEqualTo(0.8999999999999999);
        assertThat(NumPyStats.sum(tenths)).isEqualTo(0.9);
        assertThat(NumPyStats.mean(tenths)).isEqualTo(0.1);
    }

    @Test
    void shouldMatchNumPyBitForBitOnGoldenValues() throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        int records = 0;
        try (BufferedReader reader =
                new BufferedReader(
                        new InputStreamReader(
                                Objects.requireNonNull(
                                        getClass()
                                                .getResourceAsStream(
                                                        "/tasks/acecode/numpy-golden.jsonl")),
                                StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                JsonNode r = mapper.readTree(line);
                double[] v = new double[r.get("values").size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = hex(r.get("values").get(i));
                }
                assertThat(NumPyStats.sum(v)).as("sum n=%d", v.length).isEqualTo(hex(r.get("sum")));
                assertThat(NumPyStats.mean(v))
                        .as("mean n=%d", v.length)
                        .isEqualTo(hex(r.get("mean")));
                assertThat(NumPyStats.std(v)).as("std n=%d", v.length).isEqualTo(hex(r.get("std")));
                for (Iterator<Map.Entry<String, JsonNode>> it = r.get("percentiles").fields();
                        it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    assertThat(NumPyStats.percentile(v, Double.parseDouble(e.getKey())))
                            .as("percentile %s n=%d", e.getKey(), v.length)
                            .isEqualTo(hex(e.getValue()));
                }
                records++;
            }
        }
        assertThat(records).isEqualTo(51);
    }

    @Test
    void shouldReturnNaNForEmptyInputsAndRejectBadPercentiles() {
        assertThat(NumPyStats.mean(new double[0])).isNaN();
        assertThat(NumPyStats.std(new double[0])).isNaN();
        assertThatThrownBy(() -> NumPyStats.percentile(new double[0], 20))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> NumPyStats.percentile(new double[] {1, Double.NaN}, 20))
                .hasMessageContaining("NaN");
        assertThatThrownBy(() -> NumPyStats.percentile(new double[] {1}, 101))
                .hasMessageContaining("101");
    }

    private static double hex(JsonNode node) {
        return Double.parseDouble(node.asText());
    }
}

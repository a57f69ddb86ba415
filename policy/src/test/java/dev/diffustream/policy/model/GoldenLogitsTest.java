package dev.diffustream.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Golden values (STYLE rule 12): tiny fixed-weight checkpoints written by {@code
 * src/test/resources/model/make_golden.py} (independent of our Java code: Python {@code random}
 * weights, a hand-written safetensors writer and a plain-Python forward of the HF modeling code)
 * with the expected logits checked in. A change in RoPE, GQA head mapping, norms, the MLP, the bias
 * handling, the mask, the pad-aware positions or the logit shift breaks these numbers.
 */
class GoldenLogitsTest {

    private static final double TOLERANCE = 2e-5;

    @ParameterizedTest
    @ValueSource(strings = {"golden-untied", "golden-tied"})
    void shouldReproduceCheckedInLogitsWhenNoMaskIsGiven(String name) throws Exception {
        // given
        Path dir = resource(name);
        JsonNode golden = new ObjectMapper().readTree(dir.resolve("golden.json").toFile());
        try (PolicyModel model = HfCheckpoint.load(dir, DeviceConfig.defaults());
                NDManager m = NDManager.newBaseManager()) {
            NDArray tokens = m.create(ints(golden.get("tokens")));

            // when
            NDArray logits = model.logits(tokens, null);

            // then
            assertThat(logits.getShape()).isEqualTo(new Shape(2, 6, 13));
            assertClose(logits, golden.get("logits_no_mask"), null);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"golden-untied", "golden-tied"})
    void shouldReproduceCheckedInLogitsWhenLeftPaddingIsMasked(String name) throws Exception {
        // given
        Path dir = resource(name);
        JsonNode golden = new ObjectMapper().readTree(dir.resolve("golden.json").toFile());
        try (PolicyModel model = HfCheckpoint.load(dir, DeviceConfig.defaults());
                NDManager m = NDManager.newBaseManager()) {
            int[][] mask = ints(golden.get("mask"));
            NDArray tokens = m.create(ints(golden.get("tokens")));

            // when
            NDArray logits = model.logits(tokens, m.create(mask));

            // then: padded rows are unspecified, every real row matches
            assertClose(logits, golden.get("logits_with_mask"), mask);
        }
    }

    private static void assertClose(NDArray logits, JsonNode expected, int[][] mask) {
        float[] got = logits.toFloatArray();
        long[] s = logits.getShape().getShape();
        int checked = 0;
        for (int b = 0; b < s[0]; b++) {
            for (int t = 0; t < s[1]; t++) {
                if (mask != null && mask[b][t] == 0) {
                    continue;
                }
                for (int v = 0; v < s[2]; v++) {
                    double want = expected.get(b).get(t).get(v).asDouble();
                    float have = got[(int) ((b * s[1] + t) * s[2] + v)];
                    assertThat((double) have)
                            .as("logit [%d, %d, %d]", b, t, v)
                            .isCloseTo(want, org.assertj.core.data.Offset.offset(TOLERANCE));
                    checked++;
                }
            }
        }
        assertThat(checked).isGreaterThan(100);
    }

    static int[][] ints(JsonNode rows) {
        int[][] out = new int[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            out[i] = new int[rows.get(i).size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = rows.get(i).get(j).asInt();
            }
        }
        return out;
    }

    static Path resource(String name) throws URISyntaxException {
        return Paths.get(GoldenLogitsTest.class.getResource("/model/" + name).toURI());
    }
}

package dev.diffustream.policy.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The DJL forward against {@link ReferenceForward}, and the behaviours of the mask and shift. */
class ModelForwardTest {

    private static final int[][] TOKENS = {{3, 7, 1, 9, 5, 2, 8}, {4, 4, 6, 0, 10, 2, 1}};

    static Stream<Arguments> variants() {
        ModelConfig base = TinyConfigs.gqa();
        return Stream.of(
                Arguments.of("gqa g=2, untied, bias", base),
                Arguments.of("tied head", base.toBuilder().tieWordEmbeddings(true).build()),
                Arguments.of("no attention bias", base.toBuilder().attentionBias(false).build()),
                Arguments.of(
                        "multi-head g=1",
                        base.toBuilder().numKeyValueHeads(4).ropeTheta(10_000).build()),
                Arguments.of(
                        "multi-query g=4, 3 layers",
                        base.toBuilder().numKeyValueHeads(1).numHiddenLayers(3).build()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void shouldMatchReferenceForwardWhenNoMaskIsGiven(String name, ModelConfig config)
            throws Exception {
        // given
        try (PolicyModel model = PolicyModel.create(config);
                NDManager m = NDManager.newBaseManager()) {
            ReferenceForward ref = new ReferenceForward(config, ReferenceForward.weightsOf(model));

            // when
            float[] got = model.logits(m.create(TOKENS), null).toFloatArray();

            // then
            assertMatches(got, ref, TOKENS, null, 1e-4);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void shouldMatchReferenceForwardWhenLeftPaddingIsMasked(String name, ModelConfig config)
            throws Exception {
        // given
        int[][] mask = {{1, 1, 1, 1, 1, 1, 1}, {0, 0, 0, 1, 1, 1, 1}};
        try (PolicyModel model = PolicyModel.create(config);
                NDManager m = NDManager.newBaseManager()) {
            ReferenceForward ref = new ReferenceForward(config, ReferenceForward.weightsOf(model));

            // when
            float[] got = model.logits(m.create(TOKENS), m.create(mask)).toFloatArray();

            // then
            assertMatches(got, ref, TOKENS, mask, 1e-4);
        }
    }

    @Test
    void shouldGiveLeftPaddedRowTheLogitsOfItsUnpaddedSequenceWhenMaskIsGiven() {
        // given: the same 4 tokens alone, and after 3 pads of arbitrary ids
        int[][] alone = {{6, 0, 10, 2}};
        int[][] padded = {{9, 9, 3, 6, 0, 10, 2}};
        int[][] mask = {{0, 0, 0, 1, 1, 1, 1}};
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa());
                NDManager m = NDManager.newBaseManager()) {
            // when
            NDArray a = model.logits(m.create(alone), null);
            NDArray p = model.logits(m.create(padded), m.create(mask));
            NDArray unmasked = model.logits(m.create(padded), null);

            // then: pads neither attend nor shift positions...
            NDArray real = p.get(new NDIndex(":, 3:, :"));
            assertThat(maxAbsDiff(real, a)).isLessThan(1e-5f);
            // ...and without the mask they would change the result
            assertThat(maxAbsDiff(unmasked.get(new NDIndex(":, 3:, :")), a)).isGreaterThan(1e-3f);
        }
    }

    @Test
    void shouldAttendToLaterTokensWhenAnEarlierRowIsRead() {
        // given: two sequences differing only in their last token
        int[][] first = {{3, 7, 1, 9, 5}};
        int[][] second = {{3, 7, 1, 9, 6}};
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa());
                NDManager m = NDManager.newBaseManager()) {
            // when
            NDArray a = model.logits(m.create(first), null);
            NDArray b = model.logits(m.create(second), null);

            // then: no causal mask, so row 0 sees position 4
            assertThat(maxAbsDiff(a.get(new NDIndex(":, 0, :")), b.get(new NDIndex(":, 0, :"))))
                    .isGreaterThan(1e-4f);
        }
    }

    @Test
    void shouldReturnUnshiftedFloat32LogitsForEveryPositionWhenCalled() {
        // given
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa());
                NDManager m = NDManager.newBaseManager()) {
            NDArray tokens = m.create(TOKENS);

            // when
            NDArray logits = model.logits(tokens, null);

            // then: one row per input position (row j predicts j+1; the caller shifts)
            assertThat(logits.getShape()).isEqualTo(new Shape(2, 7, 11));
            assertThat(logits.getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(logits.getManager()).isSameAs(m);
            assertThat(model.vocabSize()).isEqualTo(11);
        }
    }

    @Test
    void shouldAcceptInt64TokensAndAnyMaskDtypeWhenCalled() {
        // given
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa());
                NDManager m = NDManager.newBaseManager()) {
            NDArray int32 = m.create(TOKENS);
            NDArray int64 = int32.toType(DataType.INT64, false);
            int[][] mask = {{1, 1, 1, 1, 1, 1, 1}, {0, 1, 1, 1, 1, 1, 1}};
            NDArray maskInt = m.create(mask);
            NDArray maskBool = maskInt.toType(DataType.BOOLEAN, false);

            // when
            NDArray a = model.logits(int32, maskInt);
            NDArray b = model.logits(int64, maskBool);

            // then
            assertThat(a.contentEquals(b)).isTrue();
        }
    }

    @Test
    void shouldRejectInputsWhenShapesAreWrong() {
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa());
                NDManager m = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> model.logits(m.create(new int[] {1, 2, 3}), null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("(B, T)");
            assertThatThrownBy(() -> model.logits(m.create(TOKENS), m.create(new int[][] {{1, 1}})))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("attention mask shape");
        }
    }

    @Test
    void shouldMatchFloat32WithinHalfPrecisionWhenRunInFloat16() throws Exception {
        // given: the float16 (GPU) path, exercised on the CPU with small shapes
        ModelConfig f32 = TinyConfigs.gqa().toBuilder().initializerRange(0.2).build();
        ModelConfig f16 = f32.withDevice(f32.device().withDtype("float16"));
        try (PolicyModel a = PolicyModel.create(f32);
                PolicyModel b = PolicyModel.create(f16);
                NDManager m = NDManager.newBaseManager()) {
            int[][] mask = {{1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1}};

            // when
            NDArray x = a.logits(m.create(TOKENS), m.create(mask));
            NDArray y = b.logits(m.create(TOKENS), m.create(mask));

            // then
            assertThat(b.parameters().values().iterator().next().getArray().getDataType())
                    .isEqualTo(DataType.FLOAT16);
            assertThat(y.getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(maxAbsDiff(x.get(new NDIndex("0")), y.get(new NDIndex("0"))))
                    .isLessThan(2e-2f);
            assertThat(maxAbsDiff(x.get(new NDIndex("1, 2:")), y.get(new NDIndex("1, 2:"))))
                    .isLessThan(2e-2f);
        }
    }

    static float maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    private static void assertMatches(
            float[] got, ReferenceForward ref, int[][] tokens, int[][] mask, double tol) {
        int checked = 0;
        for (int b = 0; b < tokens.length; b++) {
            double[][] want = ref.logits(tokens[b], mask == null ? null : mask[b]);
            int t = tokens[b].length;
            int v = want[0].length;
            for (int i = 0; i < t; i++) {
                if (mask != null && mask[b][i] == 0) {
                    continue;
                }
                for (int k = 0; k < v; k++) {
                    assertThat((double) got[(b * t + i) * v + k])
                            .as("logit [%d, %d, %d]", b, i, k)
                            .isCloseTo(want[i][k], org.assertj.core.data.Offset.offset(tol));
                    checked++;
                }
            }
        }
        assertThat(checked).isPositive();
    }
}

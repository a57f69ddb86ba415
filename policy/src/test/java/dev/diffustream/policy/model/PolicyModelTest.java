package dev.diffustream.policy.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.diffustream.policy.checkpoint.WeightsDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Training-side behaviour of {@link PolicyModel}: gradients, determinism, copies, updates. */
class PolicyModelTest {

    private static final int[][] TOKENS = {{3, 7, 1, 9, 5, 2, 8}, {4, 4, 6, 0, 10, 2, 1}};
    private static final int[][] MASK = {{1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1}};

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void shouldGiveEveryParameterANonZeroGradientWhenBackwardRuns(boolean tied) {
        // given
        ModelConfig config = TinyConfigs.gqa().toBuilder().tieWordEmbeddings(tied).build();
        try (PolicyModel model = PolicyModel.create(config);
                NDManager m = NDManager.newBaseManager()) {
            // when
            backward(model, m);

            // then
            assertThat(model.parameters()).hasSize(tied ? 16 : 17);
            for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
                try (NDArray g = e.getValue().getArray().getGradient()) {
                    assertThat(g.getShape()).isEqualTo(e.getValue().getArray().getShape());
                    assertThat(g.abs().sum().getFloat()).as(e.getKey()).isGreaterThan(0f);
                    assertThat(g.isNaN().any().getBoolean()).as(e.getKey()).isFalse();
                }
            }
        }
    }

    @Test
    void shouldProduceBitIdenticalLogitsAndGradientsWhenRunTwiceFromTheSameSeed() {
        // given: two models built independently from the same config
        try (PolicyModel a = PolicyModel.create(TinyConfigs.gqa());
                PolicyModel b = PolicyModel.create(TinyConfigs.gqa());
                NDManager m = NDManager.newBaseManager()) {
            // when
            NDArray la = backward(a, m);
            NDArray lb = backward(b, m);

            // then
            assertThat(la.contentEquals(lb)).isTrue();
            for (String name : a.parameters().keySet()) {
                try (NDArray ga = a.parameters().get(name).getArray().getGradient();
                        NDArray gb = b.parameters().get(name).getArray().getGradient()) {
                    assertThat(ga.contentEquals(gb)).as(name).isTrue();
                }
            }
        }
    }

    @Test
    void shouldInitDifferentlyWhenSeedDiffersAndIdenticallyWhenItIsTheSame() throws Exception {
        try (PolicyModel a = PolicyModel.create(TinyConfigs.gqa());
                PolicyModel b = PolicyModel.create(TinyConfigs.gqa());
                PolicyModel c =
                        PolicyModel.create(TinyConfigs.gqa().toBuilder().initSeed(8).build())) {
            assertThat(WeightsDigest.of(a)).isEqualTo(WeightsDigest.of(b));
            assertThat(WeightsDigest.of(a)).isNotEqualTo(WeightsDigest.of(c));
        }
    }

    @Test
    void shouldFollowHfInitWhenModelIsFresh() {
        // given
        ModelConfig config = ModelConfig.defaults();
        try (PolicyModel model = PolicyModel.create(config)) {
            Map<String, Parameter> p = model.parameters();
            NDArray emb = p.get("model.embed_tokens.weight").getArray();
            NDArray qkv = p.get("model.layers.0.self_attn.qkv_proj.weight").getArray();

            // then: N(0, 0.02) matrices, zero biases, unit norms, zero padding row
            assertThat(qkv.mean().getFloat())
                    .isCloseTo(0f, org.assertj.core.data.Offset.offset(1e-3f));
            float std = qkv.sub(qkv.mean()).square().mean().sqrt().getFloat();
            assertThat(std).isCloseTo(0.02f, org.assertj.core.data.Offset.offset(1e-3f));
            assertThat(
                            p.get("model.layers.0.self_attn.qkv_proj.bias")
                                    .getArray()
                                    .abs()
                                    .sum()
                                    .getFloat())
                    .isZero();
            assertThat(p.get("model.norm.weight").getArray().sum().getFloat())
                    .isEqualTo((float) config.hiddenSize());
            assertThat(emb.get(config.padTokenId()).abs().sum().getFloat()).isZero();
            assertThat(model.parameterCount()).isEqualTo(config.parameterCount());
        }
    }

    @Test
    void shouldAccumulateGradientsUntilZeroedWhenBackwardRunsTwice() {
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa());
                NDManager m = NDManager.newBaseManager()) {
            NDArray w = model.parameters().get("model.norm.weight").getArray();
            model.zeroGradients(); // before any backward: no-op, no error
            backward(model, m);
            NDArray once = w.getGradient().duplicate();

            // when: a second backward without zeroing
            backwardNoZero(model, m);

            // then: PyTorch accumulated, and zeroGradients clears it
            assertThat(w.getGradient().sub(once.mul(2)).abs().max().getFloat()).isLessThan(1e-5f);
            model.zeroGradients();
            assertThat(w.getGradient().abs().sum().getFloat()).isZero();
        }
    }

    @Test
    void shouldNotRecordAutogradWhenInferenceViewIsUsedInsideACollector() {
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa());
                NDManager m = NDManager.newBaseManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            // when
            NDArray recorded = model.logits(m.create(TOKENS), null);
            NDArray plain = model.inference().logits(m.create(TOKENS), null);

            // then
            assertThat(recorded(recorded)).isTrue();
            assertThat(recorded(plain)).isFalse();
            assertThat(plain.contentEquals(recorded.stopGradient())).isTrue();
            assertThat(JniUtils.isGradMode()).isTrue();
        }
    }

    @Test
    void shouldRunInferenceWithoutAutogradOnAnotherThread() throws Exception {
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa());
                NDManager m = NDManager.newBaseManager()) {
            NDArray expected = model.logits(m.create(TOKENS), null);
            AtomicReference<Object> result = new AtomicReference<>();

            // when: a fresh thread, whose PyTorch grad mode is on by default
            Thread t =
                    new Thread(
                            () -> {
                                try (NDManager local = NDManager.newBaseManager()) {
                                    NDArray l =
                                            model.inference().logits(local.create(TOKENS), null);
                                    result.set(
                                            new Object[] {
                                                recorded(l),
                                                l.contentEquals(expected),
                                                JniUtils.isGradMode()
                                            });
                                } catch (RuntimeException e) {
                                    result.set(e);
                                }
                            });
            t.start();
            t.join();

            // then
            assertThat(result.get()).isInstanceOf(Object[].class);
            Object[] r = (Object[]) result.get();
            assertThat(r[0]).isEqualTo(false);
            assertThat(r[1]).isEqualTo(true);
            assertThat(r[2]).as("grad mode restored on that thread").isEqualTo(true);
        }
    }

    @Test
    void shouldCopyDeeplyAndFreezeWhenFrozenCopyIsMade() throws Exception {
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa());
                NDManager m = NDManager.newBaseManager()) {
            String before = WeightsDigest.of(model);

            // when
            try (PolicyModel ref = model.frozenCopy()) {
                model.parameters().get("model.norm.weight").getArray().addi(1f);

                // then
                assertThat(ref.isTrainable()).isFalse();
                assertThat(WeightsDigest.of(ref)).isEqualTo(before);
                assertThat(WeightsDigest.of(model)).isNotEqualTo(before);
                for (Parameter p : ref.parameters().values()) {
                    assertThat(p.getArray().hasGradient()).isFalse();
                }
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray l = ref.logits(m.create(TOKENS), m.create(MASK));
                    assertThat(recorded(l)).as("frozen model records no graph").isFalse();
                }
            }
        }
    }

    @Test
    void shouldMixWeightsLikeTrlWhenSoftUpdateRuns() throws Exception {
        // given: θ and θ_ref differ
        try (PolicyModel policy = PolicyModel.create(TinyConfigs.gqa());
                PolicyModel ref =
                        PolicyModel.create(TinyConfigs.gqa().toBuilder().initSeed(99).build())
                                .copy(false)) {
            Map<String, float[]> theta = ReferenceForward.weightsOf(policy);
            Map<String, float[]> old = ReferenceForward.weightsOf(ref);

            // when: θ_ref ← 0.6·θ + 0.4·θ_ref (spec A.11)
            ref.softUpdateFrom(policy, 0.6);

            // then
            Map<String, float[]> mixed = ReferenceForward.weightsOf(ref);
            for (String name : theta.keySet()) {
                float[] want = new float[theta.get(name).length];
                for (int i = 0; i < want.length; i++) {
                    want[i] = 0.4f * old.get(name)[i] + 0.6f * theta.get(name)[i];
                }
                assertThat(mixed.get(name))
                        .as(name)
                        .containsExactly(want, org.assertj.core.data.Offset.offset(1e-6f));
            }
            // and α = 1 is a hard copy
            ref.softUpdateFrom(policy, 1.0);
            assertThat(WeightsDigest.of(ref)).isEqualTo(WeightsDigest.of(policy));
        }
    }

    @Test
    void shouldEqualSourceBitForBitWhenCopyFromRuns() throws Exception {
        try (PolicyModel policy = PolicyModel.create(TinyConfigs.gqa());
                PolicyModel other =
                        PolicyModel.create(TinyConfigs.gqa().toBuilder().initSeed(3).build());
                NDManager m = NDManager.newBaseManager()) {
            // when
            other.copyFrom(policy);

            // then: same weights, still trainable and independent
            assertThat(WeightsDigest.of(other)).isEqualTo(WeightsDigest.of(policy));
            assertThat(
                            other.logits(m.create(TOKENS), null)
                                    .contentEquals(policy.logits(m.create(TOKENS), null)))
                    .isTrue();
            backward(other, m);
            try (NDArray g = other.parameters().get("lm_head.weight").getArray().getGradient()) {
                assertThat(g.abs().sum().getFloat()).isPositive();
            }
        }
    }

    @Test
    void shouldRejectSoftUpdateWhenArchitecturesDiffer() {
        try (PolicyModel a = PolicyModel.create(TinyConfigs.gqa());
                PolicyModel b =
                        PolicyModel.create(
                                TinyConfigs.gqa().toBuilder().numHiddenLayers(1).build())) {
            assertThatThrownBy(() -> a.softUpdateFrom(b, 0.5))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("architecture");
            assertThatThrownBy(() -> a.softUpdateFrom(a, 1.5))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("1.5");
        }
    }

    @Test
    void shouldFailClearlyWhenUsedAfterClose() {
        PolicyModel model = PolicyModel.create(TinyConfigs.gqa());
        model.close();
        model.close(); // idempotent
        try (NDManager m = NDManager.newBaseManager()) {
            assertThat(model.isClosed()).isTrue();
            assertThatThrownBy(() -> model.logits(m.create(TOKENS), null))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        }
    }

    @Test
    void shouldListParametersInCanonicalOrderWhenAsked() {
        try (PolicyModel model = PolicyModel.create(TinyConfigs.gqa())) {
            List<String> names = new ArrayList<>(model.parameters().keySet());
            assertThat(names.get(0)).isEqualTo("model.embed_tokens.weight");
            assertThat(names.get(1)).isEqualTo("model.layers.0.input_layernorm.weight");
            assertThat(names)
                    .contains(
                            "model.layers.1.self_attn.qkv_proj.weight",
                            "model.layers.1.self_attn.qkv_proj.bias",
                            "model.layers.1.mlp.gate_up_proj.weight");
            assertThat(names.get(names.size() - 1)).isEqualTo("lm_head.weight");
        }
    }

    /**
     * Whether autograd recorded how {@code array} was computed: a backward through it succeeds (it
     * leaves gradients on the parameters). DJL's {@code hasGradient} reports false for every
     * non-leaf and asking a non-recorded tensor for its grad_fn name aborts the JVM, hence this.
     */
    static boolean recorded(NDArray array) {
        try (NDManager scratch = array.getManager().newSubManager()) {
            NDArray sum = array.sum();
            sum.attach(scratch);
            NDArray one = scratch.ones(sum.getShape());
            JniUtils.backward((PtNDArray) sum, (PtNDArray) one, false, false);
            return true;
        } catch (EngineException e) {
            return false;
        }
    }

    /** One training step's backward: zero, forward with mask, mean log-softmax loss, backward. */
    static NDArray backward(PolicyModel model, NDManager m) {
        model.zeroGradients();
        return backwardNoZero(model, m);
    }

    private static NDArray backwardNoZero(PolicyModel model, NDManager m) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray logits = model.logits(m.create(TOKENS), m.create(MASK));
            NDArray loss = logits.logSoftmax(2).get(":, :, 3").mean().neg();
            gc.backward(loss);
            return logits.stopGradient();
        }
    }
}

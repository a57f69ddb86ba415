package dev.diffustream.policy.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.diffustream.policy.config.LrScheduleKind;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainUtilitiesTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private Map<String, Parameter> params(float[] w, float[] b) {
        Map<String, Parameter> map = new LinkedHashMap<>();
        map.put("layer.weight", param("layer.weight", w));
        map.put("layer.bias", param("layer.bias", b));
        return map;
    }

    private Parameter param(String name, float[] data) {
        NDArray a = manager.create(data, new Shape(data.length));
        a.setRequiresGradient(true);
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
        p.setArray(a);
        return p;
    }

    /** Backward of Σ c⊙w + Σ w² so the gradient is c + 2w. */
    private void backward(Map<String, Parameter> params, float[] cw, float[] cb) {
        try (NDManager sm = manager.newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray w = params.get("layer.weight").getArray();
            NDArray b = params.get("layer.bias").getArray();
            NDArray loss =
                    w.mul(sm.create(cw))
                            .sum()
                            .add(b.mul(sm.create(cb)).sum())
                            .add(w.square().sum())
                            .add(b.square().sum());
            gc.backward(loss);
        }
    }

    @Test
    void shouldMatchTorchAdamWUpdateAndZeroGradients() {
        // given
        float[] w0 = {0.5f, -1.0f, 2.0f};
        float[] b0 = {0.1f, 0.2f};
        float[] cw = {1f, -2f, 0.5f};
        float[] cb = {-1f, 3f};
        Map<String, Parameter> params = params(w0, b0);
        double lr = 0.01;
        double b1 = 0.9;
        double b2 = 0.99;
        double eps = 1e-8;
        double wd = 0.1;
        AdamW opt = new AdamW(b1, b2, eps, wd, AdamW.hfDecayRule());
        // reference state in double
        double[] w = {0.5, -1.0, 2.0};
        double[] b = {0.1, 0.2};
        double[] mw = new double[3];
        double[] vw = new double[3];
        double[] mb = new double[2];
        double[] vb = new double[2];
        for (int t = 1; t <= 3; t++) {
            // when
            backward(params, cw, cb);
            opt.step(params, lr);
            // reference (torch.optim.AdamW), weight decayed, bias not
            refStep(w, mw, vw, cw, t, lr, b1, b2, eps, wd);
            refStep(b, mb, vb, cb, t, lr, b1, b2, eps, 0);
        }
        // then
        float[] gotW = params.get("layer.weight").getArray().toFloatArray();
        float[] gotB = params.get("layer.bias").getArray().toFloatArray();
        for (int i = 0; i < 3; i++) {
            assertThat((double) gotW[i]).isCloseTo(w[i], within(1e-5));
        }
        for (int i = 0; i < 2; i++) {
            assertThat((double) gotB[i]).isCloseTo(b[i], within(1e-5));
        }
        assertThat(opt.stepCount()).isEqualTo(3);
        assertThat(params.get("layer.weight").getArray().getGradient().toFloatArray())
                .containsOnly(0f);
        opt.close();
    }

    private static void refStep(
            double[] p,
            double[] m,
            double[] v,
            float[] c,
            int t,
            double lr,
            double b1,
            double b2,
            double eps,
            double wd) {
        for (int i = 0; i < p.length; i++) {
            double g = c[i] + 2 * p[i];
            p[i] *= 1 - lr * wd;
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
            p[i] -= lr / (1 - Math.pow(b1, t)) * m[i] / denom;
        }
    }

    @Test
    void shouldContinueBitExactWhenStateIsSavedAndLoaded(@TempDir Path dir) throws Exception {
        // given two identical parameter sets
        float[] cw = {1f, -2f, 0.5f};
        float[] cb = {-1f, 3f};
        Map<String, Parameter> straight =
                params(new float[] {0.5f, -1f, 2f}, new float[] {0.1f, 0.2f});
        Map<String, Parameter> resumed =
                params(new float[] {0.5f, -1f, 2f}, new float[] {0.1f, 0.2f});
        AdamW a = new AdamW(0.9, 0.99, 1e-8, 0.1, AdamW.hfDecayRule());
        AdamW b = new AdamW(0.9, 0.99, 1e-8, 0.1, AdamW.hfDecayRule());
        // when: 4 straight steps vs 2 steps, save, fresh optimizer, load, 2 steps
        for (int i = 0; i < 4; i++) {
            backward(straight, cw, cb);
            a.step(straight, 0.05);
        }
        for (int i = 0; i < 2; i++) {
            backward(resumed, cw, cb);
            b.step(resumed, 0.05);
        }
        Path file = dir.resolve("optimizer.safetensors");
        b.save(file);
        b.close();
        AdamW c = new AdamW(0.9, 0.99, 1e-8, 0.1, AdamW.hfDecayRule());
        c.load(file, resumed);
        for (int i = 0; i < 2; i++) {
            backward(resumed, cw, cb);
            c.step(resumed, 0.05);
        }
        // then
        assertThat(c.stepCount()).isEqualTo(4);
        assertThat(resumed.get("layer.weight").getArray().toFloatArray())
                .containsExactly(straight.get("layer.weight").getArray().toFloatArray());
        assertThat(resumed.get("layer.bias").getArray().toFloatArray())
                .containsExactly(straight.get("layer.bias").getArray().toFloatArray());
        a.close();
        c.close();
    }

    @Test
    void shouldRejectStateOfOtherParameters(@TempDir Path dir) throws Exception {
        Map<String, Parameter> p = params(new float[] {1f, 2f, 3f}, new float[] {1f, 2f});
        AdamW a = new AdamW(0.9, 0.99, 1e-8, 0.0, AdamW.hfDecayRule());
        backward(p, new float[] {1, 1, 1}, new float[] {1, 1});
        a.step(p, 0.1);
        Path file = dir.resolve("opt.safetensors");
        a.save(file);
        Map<String, Parameter> other = params(new float[] {1f, 2f}, new float[] {1f, 2f});
        assertThatThrownBy(
                        () ->
                                new AdamW(0.9, 0.99, 1e-8, 0.0, AdamW.hfDecayRule())
                                        .load(file, other))
                .hasMessageContaining("exp_avg.layer.weight has shape (3)")
                .hasMessageContaining("(2)");
        a.close();
    }

    @Test
    void shouldClipOnFlatGradientAndUpdateLikeSeparateClippingThenStep() {
        // given two identical parameter sets with gradients of norm 13
        Map<String, Parameter> a = params(new float[] {0f, 0f, 0f}, new float[] {0f, 0f});
        Map<String, Parameter> b = params(new float[] {0f, 0f, 0f}, new float[] {0f, 0f});
        backward(a, new float[] {3, 4, 0}, new float[] {0, 12});
        backward(b, new float[] {3, 4, 0}, new float[] {0, 12});
        AdamW fused = new AdamW(0.9, 0.99, 1e-8, 0.1, AdamW.hfDecayRule());
        AdamW separate = new AdamW(0.9, 0.99, 1e-8, 0.1, AdamW.hfDecayRule());
        // when
        double norm = fused.step(a, 0.01, 1.3);
        double normSeparate = GradientClipping.clipGlobalNorm(b, 1.3);
        separate.step(b, 0.01);
        // then
        assertThat(norm).isCloseTo(13.0, within(1e-4));
        assertThat(normSeparate).isCloseTo(13.0, within(1e-4));
        assertThat(a.get("layer.weight").getArray().toFloatArray())
                .containsExactly(b.get("layer.weight").getArray().toFloatArray(), within(1e-7f));
        fused.close();
        separate.close();
    }

    @Test
    void shouldScaleToMaxNormWhenGlobalNormExceedsIt() {
        // given gradients c + 2w = (3, 4, 0) and (0, 12) → norm 13
        Map<String, Parameter> p = params(new float[] {0f, 0f, 0f}, new float[] {0f, 0f});
        backward(p, new float[] {3, 4, 0}, new float[] {0, 12});
        // when
        double before = GradientClipping.clipGlobalNorm(p, 1.3);
        // then
        assertThat(before).isCloseTo(13.0, within(1e-5));
        assertThat(GradientClipping.globalNorm(p)).isCloseTo(1.3, within(1e-4));
        assertThat(p.get("layer.weight").getArray().getGradient().toFloatArray())
                .containsExactly(new float[] {0.3f, 0.4f, 0f}, within(1e-5f));
        // and a larger max leaves them alone
        assertThat(GradientClipping.clipGlobalNorm(p, 10)).isCloseTo(1.3, within(1e-4));
        assertThat(GradientClipping.globalNorm(p)).isCloseTo(1.3, within(1e-4));
    }

    @Test
    void shouldFollowCosineWithMinLrAfterWarmup() {
        // given S = 100, warmup ratio 0.05 → W = 5, floor 0.1
        LrSchedule s = LrSchedule.create(LrScheduleKind.COSINE_WITH_MIN_LR, 1e-3, 100, 0.05, 0.1);
        // then
        assertThat(s.lr(0)).isZero();
        assertThat(s.lr(2)).isCloseTo(0.4e-3, within(1e-12));
        assertThat(s.lr(5)).isCloseTo(1e-3, within(1e-12));
        assertThat(s.lr(52))
                .isCloseTo(
                        1e-3 * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 47 / 95.0))),
                        within(1e-12));
        assertThat(s.lr(100)).isCloseTo(1e-4, within(1e-12));
        // the release: ratio 1e-4 of 5200 steps → one warmup step
        LrSchedule release =
                LrSchedule.create(LrScheduleKind.COSINE_WITH_MIN_LR, 1e-6, 5200, 1e-4, 0.1);
        assertThat(release.lr(0)).isZero();
        assertThat(release.lr(1)).isCloseTo(1e-6, within(1e-15));
        assertThat(LrSchedule.create(LrScheduleKind.CONSTANT_WITH_WARMUP, 1.0, 10, 0.2, 0).lr(1))
                .isEqualTo(0.5);
        assertThat(LrSchedule.create(LrScheduleKind.CONSTANT, 2.0, 10, 0.2, 0).lr(0))
                .isEqualTo(2.0);
    }

    @Test
    void shouldMixReferenceTowardPolicyWhenSyncIsDue() {
        // given
        Map<String, Parameter> policy = params(new float[] {1f, 1f, 1f}, new float[] {2f, 2f});
        Map<String, Parameter> ref = params(new float[] {0f, 0f, 0f}, new float[] {0f, 4f});
        RefModelSync sync = new RefModelSync(true, 64, 0.6);
        // when
        assertThat(sync.maybeSync(63, policy, ref)).isFalse();
        assertThat(sync.maybeSync(64, policy, ref)).isTrue();
        // then θ_ref = 0.6 θ + 0.4 θ_ref
        assertThat(ref.get("layer.weight").getArray().toFloatArray())
                .containsExactly(new float[] {0.6f, 0.6f, 0.6f}, within(1e-6f));
        assertThat(ref.get("layer.bias").getArray().toFloatArray())
                .containsExactly(new float[] {1.2f, 2.8f}, within(1e-6f));
        assertThat(new RefModelSync(false, 64, 0.6).isDue(64)).isFalse();
        assertThat(sync.isDue(0)).isFalse();
    }
}

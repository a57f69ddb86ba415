package dev.diffustream.policy.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.policy.config.LrScheduleKind;
import dev.diffustream.policy.config.PretrainConfig;
import dev.diffustream.policy.config.RemaskingAlgorithm;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.tasks.builtin.BuiltinSuite;
import dev.diffustream.policy.tokenizer.CharTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Smoke tests that run the real pretraining loop on a very small model and budget. */
class PretrainerTest {

    private static BuiltinSuite suite;

    @BeforeAll
    static void suite() {
        suite = new BuiltinSuite(7, 48, 12);
    }

    private static ModelConfig tinyModel() {
        ModelConfig d = ModelConfig.defaults();
        return new ModelConfig(
                d.modelType(),
                d.vocabSize(),
                32,
                64,
                1,
                2,
                1,
                d.ropeTheta(),
                d.rmsNormEps(),
                false,
                true,
                d.maxPositionEmbeddings(),
                "float32",
                d.initializerRange(),
                d.maskTokenId(),
                d.padTokenId(),
                d.bosTokenId(),
                d.eosTokenId(),
                99L,
                d.device());
    }

    private static PretrainConfig config(int steps, int checkpointEvery) {
        return new PretrainConfig(
                5L,
                steps,
                4,
                3e-3,
                LrScheduleKind.COSINE_WITH_MIN_LR,
                0.1,
                0.1,
                0.9,
                0.99,
                1e-8,
                0.01,
                1.0,
                1e-3,
                0.25,
                200,
                64,
                "You are a helpful assistant.",
                checkpointEvery,
                2,
                4,
                4,
                new SamplerConfig(RemaskingAlgorithm.ENTROPY, 0.2, 0.95, 0, 0.0, 8, 64, 1e-3));
    }

    private static PretrainOptions options(PretrainConfig cfg) {
        return new PretrainOptions(cfg, tinyModel(), suite, CharTokenizer.standard(), 0);
    }

    private static PretrainOptions fixtureOptions(PretrainConfig cfg) {
        return new PretrainOptions(
                cfg, tinyModel(), new FixtureSuite(), CharTokenizer.standard(), 0);
    }

    @Test
    void shouldLowerLossWriteCheckpointAndEvaluateWhenRunToTheEnd(@TempDir Path out)
            throws Exception {
        // given a 24-step budget on a small built-in suite
        List<PretrainProgress> reports = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        ProgressSink sink =
                new ProgressSink() {
                    @Override
                    public void onProgress(PretrainProgress p) {
                        reports.add(p);
                    }

                    @Override
                    public void onMessage(String m) {
                        messages.add(m);
                    }
                };
        // when
        PretrainResult r = new Pretrainer().run(options(config(24, 0)), out, sink);
        // then the validation loss on fixed held-out rows went down
        assertThat(r.finished()).isTrue();
        assertThat(r.stepsDone()).isEqualTo(24);
        assertThat(r.validationLossAfter()).isLessThan(r.validationLossBefore());
        // progress every 2 steps, with a rate and an ETA that reaches 0
        assertThat(reports).hasSize(12);
        assertThat(reports.get(11).step()).isEqualTo(24);
        assertThat(reports.get(11).etaSeconds()).isZero();
        assertThat(reports.get(0).stepsPerSecond()).isPositive();
        assertThat(messages).anyMatch(m -> m.startsWith("pretraining on"));
        // an HF-layout checkpoint with the tokenizer, a digest, an evaluation, a result file
        assertThat(out.resolve("checkpoint/config.json")).exists();
        assertThat(out.resolve("checkpoint/model.safetensors")).exists();
        assertThat(out.resolve("checkpoint/tokenizer.json")).exists();
        assertThat(r.sha256()).hasSize(64);
        assertThat(r.evaluation().tasks()).isEqualTo(4);
        assertThat(r.evaluation().formatValidRate()).isBetween(0.0, 1.0);
        assertThat(r.trainEvaluation().tasks()).isEqualTo(4);
        assertThat(out.resolve(Pretrainer.RESULT_FILE)).exists();
        assertThat(Files.readString(out.resolve(Pretrainer.RESULT_FILE)))
                .contains("formatValidRate");
    }

    @Test
    void shouldEndWithSameWeightsWhenInterruptedAndResumed(
            @TempDir Path straight, @TempDir Path resumed) throws Exception {
        // given the same 6-step run, once straight and once stopped after 3 steps then resumed
        PretrainConfig cfg = config(6, 2).withEval(0, 4, config(6, 2).evalSampler());
        PretrainResult a = new Pretrainer().run(fixtureOptions(cfg), straight, ProgressSink.none());
        PretrainResult first =
                new Pretrainer()
                        .run(fixtureOptions(cfg).withStopAfter(3), resumed, ProgressSink.none());
        // when
        PretrainResult second =
                new Pretrainer().run(fixtureOptions(cfg), resumed, ProgressSink.none());
        // then
        assertThat(first.finished()).isFalse();
        assertThat(first.checkpointDir()).isNull();
        assertThat(second.resumedFromStep()).isEqualTo(3);
        assertThat(second.sha256()).isEqualTo(a.sha256());
        assertThat(resumed.resolve("state/trainer.json")).exists();
    }

    @Test
    void shouldRefuseToResumeWithAnotherConfig(@TempDir Path out) throws Exception {
        new Pretrainer()
                .run(fixtureOptions(config(4, 0)).withStopAfter(2), out, ProgressSink.none());
        PretrainConfig other = config(4, 0).withSteps(5);
        assertThatThrownBy(
                        () -> new Pretrainer().run(fixtureOptions(other), out, ProgressSink.none()))
                .hasMessageContaining("cannot resume")
                .hasMessageContaining("steps: 4 -> 5");
    }
}

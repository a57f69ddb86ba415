package dev.diffustream.policy.pretrain;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.config.PretrainConfig;
import dev.diffustream.policy.estimator.ScoringBatch;
import dev.diffustream.policy.loss.MaskedDiffusionLoss;
import dev.diffustream.policy.model.ModelConfig;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tokenizer.Tokenizer;
import dev.diffustream.policy.train.AdamW;
import dev.diffustream.policy.train.LrSchedule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervised masked-diffusion pretraining of the tiny policy ({@code diffustream pretrain}):
 * teaches a fresh model to answer the built-in suite's prompts with a python block in the shape the
 * reward accepts, so that RL starts from a policy that is format-valid most of the time but does
 * not solve everything.
 *
 * <p>The loop (EasyTrain / nanoGPT style), per step s:
 *
 * <ol>
 *   <li><b>batch</b>: rows s·B … s·B+B−1 of an endless stream of epochs, each epoch a seeded
 *       permutation of the train examples ({@link PretrainData}); each row's mask seed is {@code
 *       Seeds.mix(seed, s, row)} — a pure function of (seed, step), so resuming needs no RNG state;
 *   <li><b>forward/backward</b>: {@link MaskedDiffusionLoss} inside one {@code GradientCollector};
 *       optionally a share of the rows ({@code jointFraction}) is denoised as whole texts, prompt
 *       included, which gives the tiny model ~4× more target tokens per forward and teaches it to
 *       copy between prompt and completion (the signature) much sooner;
 *   <li><b>update</b>: global-norm clipping and {@link AdamW} at the schedule's rate, on one flat
 *       gradient;
 *   <li><b>report</b> every {@code logEvery} steps, <b>save state</b> every {@code
 *       checkpointEvery}.
 * </ol>
 *
 * <p>Output directory: {@code state/} (resumable: model checkpoint, optimizer moments, {@code
 * trainer.json} with the step and the config), {@code checkpoint/} (the final HF-layout checkpoint
 * with the tokenizer), {@code pretrain.json} (the result with the held-out evaluation). Running
 * again on the same directory resumes from {@code state/}, and is deterministic: an interrupted and
 * resumed run ends with the same weights (sha256) as an uninterrupted one, on the same machine.
 */
public final class Pretrainer {

    /** Resumable state, replaced atomically. */
    public static final String STATE_DIR = "state";

    /** The final checkpoint. */
    public static final String CHECKPOINT_DIR = "checkpoint";

    /** The result as JSON. */
    public static final String RESULT_FILE = "pretrain.json";

    private static final Logger LOG = LoggerFactory.getLogger(Pretrainer.class);
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String MODEL_SUBDIR = "model";
    private static final String OPTIMIZER_FILE = "optimizer.safetensors";
    private static final String TRAINER_FILE = "trainer.json";
    private static final int VALIDATION_ROWS = 32;
    private static final long VALIDATION_SALT = 0x7A11DL;
    private static final long EVAL_SALT = 0xE7A1L;

    /**
     * Trains (or resumes), saves the final checkpoint and evaluates on held-out prompts.
     *
     * @param options what to train
     * @param outputDir created if needed; holds state, checkpoint and result
     * @param progress receives progress reports and phase messages
     */
    public PretrainResult run(PretrainOptions options, Path outputDir, ProgressSink progress)
            throws IOException {
        PretrainConfig cfg = options.config();
        Tokenizer tokenizer = options.tokenizer();
        Files.createDirectories(outputDir);
        recoverInterruptedSave(outputDir);

        List<CodeTask> trainTasks = options.suite().load(TaskSplit.TRAIN);
        List<CodeTask> heldOut = options.suite().load(TaskSplit.HELDOUT);
        PretrainData.Examples data =
                PretrainData.build(
                        trainTasks,
                        tokenizer,
                        cfg.systemPrompt(),
                        cfg.maxPromptLength(),
                        cfg.completionLength());
        if (data.examples().isEmpty()) {
            throw new IllegalArgumentException(
                    "no train task of suite '"
                            + options.suite().name()
                            + "' fits completionLength = "
                            + cfg.completionLength()
                            + " ("
                            + data.skipped()
                            + " skipped)");
        }
        PretrainData.Examples validation =
                PretrainData.build(
                        heldOut.subList(0, Math.min(VALIDATION_ROWS, heldOut.size())),
                        tokenizer,
                        cfg.systemPrompt(),
                        cfg.maxPromptLength(),
                        cfg.completionLength());
        progress.onMessage(
                String.format(
                        Locale.ROOT,
                        "pretraining on %d examples (%d skipped), %d steps of %d",
                        data.examples().size(),
                        data.skipped(),
                        cfg.steps(),
                        cfg.batchSize()));

        Path stateDir = outputDir.resolve(STATE_DIR);
        int startStep = 0;
        PolicyModel model;
        AdamW optimizer = optimizerFor(cfg);
        if (Files.isDirectory(stateDir)) {
            JsonNode trainer = JSON.readTree(stateDir.resolve(TRAINER_FILE).toFile());
            requireSameConfig(cfg, trainer, stateDir);
            startStep = trainer.get("step").asInt();
            model =
                    HfCheckpoint.load(
                            stateDir.resolve(MODEL_SUBDIR), options.model().device(), true);
            requireSameModel(options.model(), model.config(), stateDir);
            optimizer.load(stateDir.resolve(OPTIMIZER_FILE), model.parameters());
            progress.onMessage("resuming from step " + startStep + " (" + stateDir + ")");
        } else {
            model = PolicyModel.create(options.model());
        }

        try (model;
                optimizer;
                NDManager root = NDManager.newBaseManager(model.device())) {
            MaskedDiffusionLoss loss = new MaskedDiffusionLoss(tokenizer.maskId(), cfg.maskEps());
            double validationBefore = validationLoss(model, loss, validation, cfg, tokenizer, root);
            LrSchedule schedule =
                    LrSchedule.create(
                            cfg.lrSchedule(),
                            cfg.learningRate(),
                            cfg.steps(),
                            cfg.warmupRatio(),
                            cfg.minLrRate());
            int endStep =
                    options.stopAfter() > 0
                            ? Math.min(cfg.steps(), options.stopAfter())
                            : cfg.steps();
            DataOrder order = new DataOrder(data.examples().size(), cfg.seed());

            long t0 = System.nanoTime();
            double windowLoss = 0;
            int windowSteps = 0;
            double lastLoss = Double.NaN;
            for (int step = startStep; step < endStep; step++) {
                // ---- batch
                StepBatch batch = batchFor(step, cfg, data.examples(), order, tokenizer);
                // ---- forward / backward
                float lossValue;
                try (NDManager sm = root.newSubManager();
                        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray l = batch.loss(model, loss, sm);
                    gc.backward(l);
                    lossValue = l.getFloat();
                }
                if (!Float.isFinite(lossValue)) {
                    throw new IllegalStateException(
                            "pretraining loss became " + lossValue + " at step " + step);
                }
                // ---- update
                double lr = schedule.lr(step);
                double gradNorm = optimizer.step(model.parameters(), lr, cfg.maxGradNorm());
                // ---- report and save
                windowLoss += lossValue;
                windowSteps++;
                int done = step + 1;
                if (done % cfg.logEvery() == 0 || done == endStep) {
                    lastLoss = windowLoss / windowSteps;
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    double rate = (done - startStep) / Math.max(seconds, 1e-9);
                    progress.onProgress(
                            new PretrainProgress(
                                    done,
                                    cfg.steps(),
                                    lastLoss,
                                    lr,
                                    gradNorm,
                                    rate,
                                    (cfg.steps() - done) / rate));
                    windowLoss = 0;
                    windowSteps = 0;
                }
                boolean periodic = cfg.checkpointEvery() > 0 && done % cfg.checkpointEvery() == 0;
                if ((periodic && done < endStep) || done == endStep) {
                    saveState(outputDir, model, optimizer, tokenizer, cfg, done);
                }
            }
            double trainSeconds = (System.nanoTime() - t0) / 1e9;
            double validationAfter = validationLoss(model, loss, validation, cfg, tokenizer, root);
            boolean finished = endStep == cfg.steps();
            Path checkpoint = null;
            String sha = null;
            HeldOutEvaluation evaluation = null;
            HeldOutEvaluation trainEvaluation = null;
            if (finished) {
                checkpoint = outputDir.resolve(CHECKPOINT_DIR);
                if (!Files.isDirectory(checkpoint)) {
                    Path tmp = outputDir.resolve(CHECKPOINT_DIR + ".tmp");
                    deleteRecursively(tmp);
                    HfCheckpoint.save(model, tokenizer, tmp);
                    Files.move(tmp, checkpoint, StandardCopyOption.ATOMIC_MOVE);
                }
                sha = HfCheckpoint.sha256(checkpoint);
                if (cfg.evalTasks() > 0) {
                    List<CodeTask> evalTasks =
                            heldOut.subList(0, Math.min(cfg.evalTasks(), heldOut.size()));
                    progress.onMessage("evaluating " + evalTasks.size() + " held-out prompts");
                    evaluation = evaluate(model, tokenizer, evalTasks, cfg, 0);
                    // the same number of train prompts: how much of the RL train split is solved
                    List<CodeTask> seen =
                            trainTasks.subList(0, Math.min(cfg.evalTasks(), trainTasks.size()));
                    progress.onMessage("evaluating " + seen.size() + " train prompts");
                    trainEvaluation = evaluate(model, tokenizer, seen, cfg, 1);
                }
            }
            PretrainResult result =
                    new PretrainResult(
                            endStep,
                            cfg.steps(),
                            startStep,
                            finished,
                            trainSeconds,
                            lastLoss,
                            validationBefore,
                            validationAfter,
                            data.examples().size(),
                            data.skipped(),
                            checkpoint,
                            sha,
                            evaluation,
                            trainEvaluation);
            if (finished) {
                writeResult(outputDir.resolve(RESULT_FILE), result, cfg, options.model());
            }
            LOG.info("pretraining result: {}", result);
            return result;
        }
    }

    private static HeldOutEvaluation evaluate(
            PolicyModel model,
            Tokenizer tokenizer,
            List<CodeTask> tasks,
            PretrainConfig cfg,
            long salt) {
        return PretrainEvaluator.evaluate(
                model.inference(),
                tokenizer,
                tasks,
                cfg.systemPrompt(),
                cfg.maxPromptLength(),
                cfg.evalSampler(),
                cfg.evalBatchSize(),
                Seeds.mix(cfg.seed(), EVAL_SALT, salt));
    }

    private static AdamW optimizerFor(PretrainConfig cfg) {
        return new AdamW(
                cfg.adamBeta1(),
                cfg.adamBeta2(),
                cfg.adamEpsilon(),
                cfg.weightDecay(),
                AdamW.hfDecayRule());
    }

    /**
     * One step's rows: the first B − J are conditional (prompt given, completion denoised), the
     * last J = round(B · jointFraction) are joint (the whole chat text denoised).
     *
     * @param conditional the SFT rows
     * @param joint the joint rows as a batch whose "prompt" is the first token and whose
     *     "completion" is the rest of the text right-padded to a common length, or null
     * @param jointTargets which joint positions are real text (1) rather than right padding (0)
     */
    record StepBatch(ScoringBatch conditional, ScoringBatch joint, float[][] jointTargets) {

        /** The row-weighted mean of the two masked-diffusion losses. */
        NDArray loss(PolicyModel model, MaskedDiffusionLoss loss, NDManager sm) {
            NDArray cond = conditional == null ? null : loss.compute(model, conditional, sm);
            if (joint == null) {
                return cond;
            }
            NDArray j = loss.compute(model, joint, jointTargets, sm);
            if (cond == null) {
                return j;
            }
            float rows = conditional.rows() + joint.rows();
            return cond.mul(conditional.rows() / rows).add(j.mul(joint.rows() / rows)); // ()
        }
    }

    /** Rows s·B … s·B+B−1 of the example stream, with per-row mask seeds. */
    static StepBatch batchFor(
            int step,
            PretrainConfig cfg,
            List<PretrainData.Example> examples,
            DataOrder order,
            Tokenizer tokenizer) {
        int b = cfg.batchSize();
        int jointRows = (int) Math.round(b * cfg.jointFraction());
        int condRows = b - jointRows;
        int[][] prompts = new int[condRows][];
        int[][] targets = new int[condRows][];
        long[] seeds = new long[condRows];
        int[][] jointFirst = new int[jointRows][];
        int[][] jointText = new int[jointRows][];
        long[] jointSeeds = new long[jointRows];
        int jointLen = 0;
        for (int j = 0; j < b; j++) {
            PretrainData.Example ex = examples.get(order.at((long) step * b + j));
            long seed = Seeds.mix(cfg.seed(), step, j);
            if (j < condRows) {
                prompts[j] = ex.prompt();
                targets[j] = ex.target();
                seeds[j] = seed;
            } else {
                int r = j - condRows;
                int[] p = ex.prompt();
                jointFirst[r] = new int[] {p[0]};
                int[] text = new int[p.length - 1 + ex.target().length];
                System.arraycopy(p, 1, text, 0, p.length - 1);
                System.arraycopy(ex.target(), 0, text, p.length - 1, ex.target().length);
                jointText[r] = text;
                jointSeeds[r] = seed;
                jointLen = Math.max(jointLen, text.length);
            }
        }
        ScoringBatch cond =
                condRows == 0 ? null : ScoringBatch.of(prompts, targets, seeds, tokenizer.padId());
        if (jointRows == 0) {
            return new StepBatch(cond, null, null);
        }
        float[][] real = new float[jointRows][jointLen];
        for (int r = 0; r < jointRows; r++) {
            int[] padded = java.util.Arrays.copyOf(jointText[r], jointLen);
            java.util.Arrays.fill(padded, jointText[r].length, jointLen, tokenizer.padId());
            java.util.Arrays.fill(real[r], 0, jointText[r].length, 1f);
            jointText[r] = padded;
        }
        ScoringBatch joint = ScoringBatch.of(jointFirst, jointText, jointSeeds, tokenizer.padId());
        return new StepBatch(cond, joint, real);
    }

    /** Mean masked-diffusion loss over a fixed held-out batch and two fixed mask draws. */
    private static double validationLoss(
            PolicyModel model,
            MaskedDiffusionLoss loss,
            PretrainData.Examples validation,
            PretrainConfig cfg,
            Tokenizer tokenizer,
            NDManager root) {
        List<PretrainData.Example> rows = validation.examples();
        if (rows.isEmpty()) {
            return Double.NaN;
        }
        int[][] prompts = new int[rows.size()][];
        int[][] targets = new int[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            prompts[i] = rows.get(i).prompt();
            targets[i] = rows.get(i).target();
        }
        double sum = 0;
        int draws = 2;
        for (int d = 0; d < draws; d++) {
            long[] seeds = new long[rows.size()];
            for (int i = 0; i < seeds.length; i++) {
                seeds[i] = Seeds.mix(cfg.seed(), VALIDATION_SALT, d, i);
            }
            ScoringBatch batch = ScoringBatch.of(prompts, targets, seeds, tokenizer.padId());
            try (NDManager sm = root.newSubManager()) {
                sum += loss.compute(model.inference(), batch, sm).getFloat();
            }
        }
        return sum / draws;
    }

    private static void saveState(
            Path outputDir,
            PolicyModel model,
            AdamW optimizer,
            Tokenizer tokenizer,
            PretrainConfig cfg,
            int step)
            throws IOException {
        Path tmp = outputDir.resolve(STATE_DIR + ".tmp");
        Path state = outputDir.resolve(STATE_DIR);
        Path old = outputDir.resolve(STATE_DIR + ".old");
        deleteRecursively(tmp);
        Files.createDirectories(tmp);
        HfCheckpoint.save(model, tokenizer, tmp.resolve(MODEL_SUBDIR));
        optimizer.save(tmp.resolve(OPTIMIZER_FILE));
        ObjectNode trainer = JSON.createObjectNode();
        trainer.put("step", step);
        trainer.set("config", JSON.valueToTree(cfg));
        JSON.writeValue(tmp.resolve(TRAINER_FILE).toFile(), trainer);
        // state -> state.old, state.tmp -> state, drop state.old: a crash in between leaves
        // state.old, which recoverInterruptedSave puts back
        deleteRecursively(old);
        if (Files.isDirectory(state)) {
            Files.move(state, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, state, StandardCopyOption.ATOMIC_MOVE);
        deleteRecursively(old);
    }

    private static void recoverInterruptedSave(Path outputDir) throws IOException {
        Path state = outputDir.resolve(STATE_DIR);
        Path old = outputDir.resolve(STATE_DIR + ".old");
        if (!Files.isDirectory(state) && Files.isDirectory(old)) {
            Files.move(old, state, StandardCopyOption.ATOMIC_MOVE);
        }
        deleteRecursively(outputDir.resolve(STATE_DIR + ".tmp"));
    }

    private static void requireSameConfig(PretrainConfig cfg, JsonNode trainer, Path stateDir)
            throws IOException {
        JsonNode saved = trainer.get("config");
        JsonNode now = JSON.readTree(JSON.writeValueAsString(cfg)); // same node types as on disk
        if (!now.equals(saved)) {
            StringBuilder diff = new StringBuilder();
            now.fieldNames()
                    .forEachRemaining(
                            k -> {
                                if (saved == null || !now.get(k).equals(saved.get(k))) {
                                    diff.append(' ')
                                            .append(k)
                                            .append(": ")
                                            .append(saved == null ? null : saved.get(k))
                                            .append(" -> ")
                                            .append(now.get(k));
                                }
                            });
            throw new IllegalArgumentException(
                    "cannot resume from "
                            + stateDir
                            + ": it was written with another pretrain config;"
                            + diff
                            + " (use a new --out directory or the same recipe)");
        }
    }

    private static void requireSameModel(ModelConfig wanted, ModelConfig found, Path stateDir) {
        boolean same =
                wanted.vocabSize() == found.vocabSize()
                        && wanted.hiddenSize() == found.hiddenSize()
                        && wanted.intermediateSize() == found.intermediateSize()
                        && wanted.numHiddenLayers() == found.numHiddenLayers()
                        && wanted.numAttentionHeads() == found.numAttentionHeads()
                        && wanted.numKeyValueHeads() == found.numKeyValueHeads()
                        && wanted.ropeTheta() == found.ropeTheta()
                        && wanted.tieWordEmbeddings() == found.tieWordEmbeddings()
                        && wanted.attentionBias() == found.attentionBias();
        if (!same) {
            throw new IllegalArgumentException(
                    "cannot resume from "
                            + stateDir
                            + ": its model is "
                            + found
                            + " but the recipe asks for "
                            + wanted);
        }
    }

    private static void writeResult(
            Path file, PretrainResult result, PretrainConfig cfg, ModelConfig model)
            throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("stepsDone", result.stepsDone());
        root.put("trainSecondsLastInvocation", result.trainSeconds());
        root.put("lastLoss", result.lastLoss());
        root.put("validationLossBefore", result.validationLossBefore());
        root.put("validationLossAfter", result.validationLossAfter());
        root.put("examples", result.examples());
        root.put("skippedTasks", result.skippedTasks());
        root.put("checkpoint", String.valueOf(result.checkpointDir()));
        root.put("sha256", result.sha256());
        root.set("evaluation", JSON.valueToTree(result.evaluation()));
        root.set("trainEvaluation", JSON.valueToTree(result.trainEvaluation()));
        root.set("config", JSON.valueToTree(cfg));
        root.put("parameters", model.parameterCount());
        JSON.writeValue(file.toFile(), root);
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder())
                    .forEach(
                            p -> {
                                try {
                                    Files.delete(p);
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            });
        }
    }

    /** An endless stream of epochs over n examples, each a seeded permutation. */
    static final class DataOrder {
        private final int n;
        private final long seed;
        private long cachedEpoch = -1;
        private int[] permutation;

        DataOrder(int n, long seed) {
            this.n = n;
            this.seed = seed;
        }

        int at(long index) {
            long epoch = index / n;
            if (epoch != cachedEpoch) {
                permutation = new int[n];
                for (int i = 0; i < n; i++) {
                    permutation[i] = i;
                }
                SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, epoch));
                for (int i = n - 1; i > 0; i--) {
                    int j = rng.nextInt(i + 1);
                    int t = permutation[i];
                    permutation[i] = permutation[j];
                    permutation[j] = t;
                }
                cachedEpoch = epoch;
            }
            return permutation[(int) (index % n)];
        }
    }
}

package dev.diffustream.policy.bench;

import dev.diffustream.policy.arness.ArNess;
import dev.diffustream.policy.config.SamplerConfig;
import dev.diffustream.policy.model.MaskedLm;
import dev.diffustream.policy.sampler.DreamSampler;
import dev.diffustream.policy.sampler.SampleResult;
import java.util.Locale;

/**
 * Sampling throughput of the Dream sampler for one group: G completions of one prompt, all rows in
 * one forward per step. Also reports the AR-ness of the decode orders (spec §E; meaningful when one
 * token is revealed per step).
 */
public final class SamplingBench {

    /**
     * One measurement.
     *
     * @param groupSize G
     * @param completionLength K
     * @param steps diffusion steps
     * @param repeats timed repetitions (after one warm-up)
     * @param secondsPerGroup mean wall-clock seconds per group
     * @param tokensPerSecond G·K / secondsPerGroup
     * @param localArNess1 mean local AR-ness@1 of the last group's decode orders
     * @param globalArNess1 mean global AR-ness@1 of the last group's decode orders
     * @param last the last group sampled
     */
    public record Result(
            int groupSize,
            int completionLength,
            int steps,
            int repeats,
            double secondsPerGroup,
            double tokensPerSecond,
            double localArNess1,
            double globalArNess1,
            SampleResult last) {

        /** One JSON line. */
        public String toJson(String bench) {
            return String.format(
                    Locale.ROOT,
                    "{\"bench\":\"%s\",\"name\":\"sampling\",\"groupSize\":%d,"
                            + "\"completionLength\":%d,\"steps\":%d,\"repeats\":%d,"
                            + "\"secondsPerGroup\":%.4f,\"tokensPerSecond\":%.1f,"
                            + "\"localArNess1\":%.4f,\"globalArNess1\":%.4f}",
                    bench,
                    groupSize,
                    completionLength,
                    steps,
                    repeats,
                    secondsPerGroup,
                    tokensPerSecond,
                    localArNess1,
                    globalArNess1);
        }
    }

    private SamplingBench() {}

    /**
     * Samples one warm-up group and {@code repeats} timed groups (seeds seed, seed+1, …).
     *
     * @param model use {@code PolicyModel.inference()}
     */
    public static Result measure(
            MaskedLm model,
            int[] prompt,
            SamplerConfig config,
            int maskId,
            int padId,
            int groupSize,
            int repeats,
            long seed) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
        }
        DreamSampler sampler = new DreamSampler(config, maskId, padId);
        SampleResult last = sampler.generateGroup(model, prompt, groupSize, seed - 1); // warm-up
        long t0 = System.nanoTime();
        for (int i = 0; i < repeats; i++) {
            last = sampler.generateGroup(model, prompt, groupSize, seed + i);
        }
        double seconds = (System.nanoTime() - t0) / 1e9 / repeats;
        return new Result(
                groupSize,
                config.maxNewTokens(),
                config.steps(),
                repeats,
                seconds,
                groupSize * (double) config.maxNewTokens() / seconds,
                ArNess.meanLocal(last.decodeOrder(), 1, ArNess.EarlySteps.ZERO),
                ArNess.meanGlobal(last.decodeOrder(), 1),
                last);
    }
}

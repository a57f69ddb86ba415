package dev.diffustream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.diffustream.learner.GrpoTrainer;
import dev.diffustream.learner.eval.CompletionScorer;
import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.model.PolicyModel;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.producers.actor.GroupSampler;
import dev.diffustream.schemas.Seeds;
import dev.diffustream.streams.Advantages;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The RL loop of the pipeline reduced to one process and a few tasks, with no Kafka: each round
 * samples a group per task with the current weights ({@link GroupSampler}, as the actor does),
 * executes it in the sandbox, computes the group's advantages ({@link Advantages}, as the streams
 * topology does) and runs one batch of {@link GrpoTrainer} (as the learner does). Because every
 * round is on-policy and the task set is small, a working update must raise the reward on these
 * tasks within a few dozen rounds; a flat or falling reward points at the update, not at the
 * pipeline around it (spec §A).
 */
final class RlSanityBench {

    /** What to run. */
    record Options(int rounds, int tasksPerRound, boolean rotate, long seed) {}

    private RlSanityBench() {}

    /**
     * Runs {@code o.rounds()} on-policy rounds over {@code tasks}; prints one JSON line per round
     * and a summary line.
     */
    static void run(
            Recipe r,
            LoadedPolicy policy,
            List<CodeTask> tasks,
            CompletionScorer scorer,
            Options o,
            PrintStream out) {
        ObjectMapper json = new ObjectMapper();
        GroupSampler sampler = new GroupSampler(r.grpo(), r.sampler(), r.policy().systemPrompt());
        double firstQuarter = 0, lastQuarter = 0;
        int quarter = Math.max(1, o.rounds() / 4);
        try (PolicyModel reference = policy.model().frozenCopy();
                GrpoTrainer trainer =
                        new GrpoTrainer(
                                policy.model(),
                                reference,
                                policy.tokenizer(),
                                r.grpo(),
                                o.tasksPerRound(),
                                0)) {
            for (int round = 0; round < o.rounds(); round++) {
                long t0 = System.nanoTime();
                int n = o.tasksPerRound();
                List<CodeTask> roundTasks = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    int index = o.rotate() ? (round * n + i) % tasks.size() : i;
                    roundTasks.add(tasks.get(index));
                }
                List<GrpoTrainer.Group> groups = new ArrayList<>(n);
                double rewardSum = 0;
                int solved = 0, valid = 0, rows = 0, zeroVariance = 0;
                for (int t = 0; t < n; t++) {
                    CodeTask task = roundTasks.get(t);
                    long taskSeed = Seeds.derive(o.seed(), "rl-sanity", round, t);
                    GroupSampler.SampledGroup g = sampler.sample(policy, task.prompt(), taskSeed);
                    List<CompletionScorer.Request> requests = new ArrayList<>();
                    for (String text : g.texts()) {
                        requests.add(
                                new CompletionScorer.Request(text, task.tests(), task.setupCode()));
                    }
                    List<CompletionScorer.Score> scores = scorer.score(requests);
                    double[] rewards = new double[scores.size()];
                    for (int m = 0; m < rewards.length; m++) {
                        CompletionScorer.Score s = scores.get(m);
                        rewards[m] = r.rewards().total(s.codeReward(), s.formatReward());
                        rewardSum += rewards[m];
                        solved += s.solved() ? 1 : 0;
                        valid += s.formatReward() >= 1.0 ? 1 : 0;
                        rows++;
                    }
                    Advantages.Result adv =
                            Advantages.compute(
                                    rewards,
                                    r.advantages().baseline(),
                                    r.advantages().scaleRewards());
                    zeroVariance += adv.zeroVariance() ? 1 : 0;
                    List<GrpoTrainer.Member> members = new ArrayList<>();
                    for (int m = 0; m < rewards.length; m++) {
                        members.add(
                                new GrpoTrainer.Member(
                                        task.id() + "/" + round + "/" + m,
                                        g.prompt(),
                                        g.samples().completions()[m],
                                        g.maskSeeds()[m],
                                        g.behaviourLogProbs()[m],
                                        adv.advantages()[m],
                                        round));
                    }
                    groups.add(new GrpoTrainer.Group(task.id() + "/" + round, members));
                }
                List<GrpoTrainer.StepStats> steps = trainer.trainBatch(groups);
                GrpoTrainer.StepStats last = steps.get(steps.size() - 1);
                double meanReward = rewardSum / rows;
                if (round < quarter) {
                    firstQuarter += meanReward / quarter;
                }
                if (round >= o.rounds() - quarter) {
                    lastQuarter += meanReward / quarter;
                }
                ObjectNode line = json.createObjectNode();
                line.put("bench", "rl-sanity");
                line.put("round", round);
                line.put("step", last.step());
                line.put("reward_mean", meanReward);
                line.put("solved_rate", (double) solved / rows);
                line.put("format_valid_rate", (double) valid / rows);
                line.put("zero_variance_groups", zeroVariance);
                line.put("kl", last.loss().kl());
                line.put("loss", last.loss().loss());
                line.put("clip_region", last.loss().clipRatioRegion());
                line.put("grad_norm", last.gradNorm());
                line.put("seconds", (System.nanoTime() - t0) / 1e9);
                out.println(line);
            }
        }
        ObjectNode summary = json.createObjectNode();
        summary.put("bench", "rl-sanity-summary");
        summary.put("tasks_per_round", o.tasksPerRound());
        summary.put("rotate", o.rotate());
        summary.put("rounds", o.rounds());
        summary.put("reward_first_quarter", firstQuarter);
        summary.put("reward_last_quarter", lastQuarter);
        out.println(summary);
    }
}

package dev.diffustream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.diffustream.learner.replay.CheckpointCheck;
import dev.diffustream.learner.replay.ReplayReport;
import dev.diffustream.learner.replay.ReplayText;
import dev.diffustream.learner.replay.Replayer;
import dev.diffustream.learner.replay.RunLog;
import dev.diffustream.policy.DeviceConfig;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.SchemaRegistry;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code diffustream replay}: re-executes a run's steps from its log and checks its checkpoints.
 */
@Command(
        name = "replay",
        description = {
            "Replays a run bit for bit: rebuilds a learner from the run's starting checkpoint (v0),"
                    + " re-executes every committed batch of its step log (train-steps) on the"
                    + " AdvantageGroups at the recorded offsets, with the run's recorded recipe"
                    + " (grpo, learner, policy.device), and compares each checkpoint the run"
                    + " published with the replayed weights (sha256; tensors when the files still"
                    + " exist). Prints one line per checkpoint and the first divergence, if any.",
            "Kafka: --bootstrap/--registry if given, else the run's broker if it still runs, else"
                    + " a local broker started on the run's kept data (RUN/kafka).",
            "Exit code: 0 identical (or drift within --tolerance), 2 diverged, 1 error.",
            "What-if: --set KEY=VALUE changes the recorded recipe (e.g. --set"
                    + " grpo.learningRate=2e-4); the replay then reports where it departs from"
                    + " the run."
        })
final class ReplayCommand implements Callable<Integer> {

    /** Exit code of a replay that diverged. */
    static final int DIVERGED = 2;

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec CommandSpec spec;

    @Option(
            names = "--run",
            required = true,
            paramLabel = "DIR",
            description =
                    "The run: a local-mode run directory (runs/<id>) or the learner's checkpoint"
                            + " store (the directory holding v000000/).")
    Path run;

    @Option(
            names = "--to-step",
            paramLabel = "N",
            defaultValue = "0",
            description = "Replay the batches starting at or before step N (default 0: all).")
    long toStep;

    @Option(
            names = "--tolerance",
            paramLabel = "X",
            defaultValue = "0",
            description =
                    "Accept weight differences up to X (max abs) as drift, for a replay on"
                            + " another machine (default 0: sha256-identical or diverged).")
    double tolerance;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            defaultValue = "60s",
            converter = DurationConverter.class,
            description = "Longest wait for reading the log or one record (default 60s).")
    Duration timeout;

    @Option(
            names = "--report",
            paramLabel = "FILE",
            description = "Also write the report as JSON to FILE.")
    Path report;

    @Override
    public Integer call() throws Exception {
        Main main = Main.of(spec);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Replayer.Options options = new Replayer.Options(toStep, tolerance, timeout);
        ReplayRun rr = ReplayRun.open(run, main.commandLineSettings(), System.getenv());
        Recipe r = rr.recipe();
        // the learner's training threads: float sums depend on how the work was split
        DeviceConfig device =
                r.policy()
                        .device()
                        .withThreads(r.learner().trainingThreads(r.policy().device().threads()));
        err.printf(
                Locale.ROOT,
                "replay: run %s (%s), recipe %s: learner.batchGroups %d, groupsPerMicroBatch %d,"
                        + " maxStaleness %d, grpo.numIterations %d, learningRate %s,"
                        + " policy.device %s/%s, learner threads %d%n",
                r.run().id(),
                rr.dir(),
                rr.recipeFile(),
                r.learner().batchGroups(),
                r.learner().groupsPerMicroBatch(),
                r.learner().maxStaleness(),
                r.grpo().numIterations(),
                r.grpo().learningRate(),
                device.device().name().toLowerCase(Locale.ROOT),
                device.dtype(),
                device.threads());
        err.flush();
        try (ReplayCluster cluster = ReplayCluster.connect(rr, "replay", err);
                SchemaRegistry registry = Clients.registry(cluster.kafka())) {
            Topics topics = new Topics(cluster.kafka().topicPrefix(), registry);
            Replayer replayer =
                    new Replayer(
                            r.learner(),
                            r.grpo(),
                            device,
                            rr.locator(),
                            options,
                            new Replayer.Listener() {
                                @Override
                                public void started(RunLog log, Checkpoint initial, Path dir) {
                                    out.printf(
                                            Locale.ROOT,
                                            "replaying run %s: %d batches, %d steps, %d"
                                                    + " checkpoints after v0 (%s, %s)%n",
                                            log.runId(),
                                            log.batches().size(),
                                            log.steps().size(),
                                            log.checkpoints().size() - 1,
                                            initial.getSha256().substring(0, 12) + "…",
                                            dir);
                                    out.flush();
                                }

                                @Override
                                public void checkpoint(CheckpointCheck c) {
                                    out.println(ReplayText.checkpointLine(c));
                                    out.flush();
                                }
                            });
            ReplayReport rep = replayer.replay(cluster.kafka(), topics, r.run().id());
            for (String line : ReplayText.summary(rep)) {
                out.println(line);
            }
            out.flush();
            if (report != null) {
                Path parent = report.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                JSON.writeValue(report.toFile(), rep);
            }
            return rep.outcome() == ReplayReport.Outcome.DIVERGED ? DIVERGED : 0;
        }
    }
}

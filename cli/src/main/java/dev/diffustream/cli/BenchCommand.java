package dev.diffustream.cli;

import dev.diffustream.infra.LocalKafka;
import dev.diffustream.infra.registry.RegistryServer;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.policy.LoadedPolicy;
import dev.diffustream.policy.bench.EstimatorBench;
import dev.diffustream.policy.bench.PolicyBench;
import dev.diffustream.policy.bench.PolicyBenchOptions;
import dev.diffustream.policy.checkpoint.HfCheckpoint;
import dev.diffustream.policy.tasks.CodeTask;
import dev.diffustream.policy.tasks.TaskSplit;
import dev.diffustream.policy.tasks.TaskSuites;
import dev.diffustream.sandbox.SandboxEngine;
import dev.diffustream.sandbox.bench.SandboxBench;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.SchemaRegistry;
import dev.diffustream.streams.StreamsBench;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffustream bench ...}: benchmarks printing JSON lines on standard output. */
@Command(
        name = "bench",
        description =
                "Benchmarks; each prints JSON lines (one per measurement) on standard output.",
        subcommands = {
            BenchCommand.Policy.class,
            BenchCommand.Estimator.class,
            BenchCommand.Sandbox.class,
            BenchCommand.Streams.class,
            BenchCommand.RlSanity.class
        })
final class BenchCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static PrintStream stdout() {
        return new PrintStream(System.out, true, StandardCharsets.UTF_8);
    }

    @Command(
            name = "policy",
            description =
                    "fp32 1024² matmul rate (the ceiling), the model's forward and forward+backward"
                            + " rate at the training batch shape (tokens/s, GFLOP/s, fraction of the"
                            + " matmul rate) and the sampling step time.")
    static final class Policy implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(
                names = "--checkpoint",
                paramLabel = "DIR",
                description =
                        "Bench this checkpoint's architecture and weights instead of the recipe's model section.")
        Path checkpoint;

        @Option(
                names = "--rows",
                paramLabel = "B",
                description = "Rows of the batch (default 48 = 3 passes x G 8 x 2 groups).")
        Integer rows;

        @Option(
                names = "--seq-len",
                paramLabel = "T",
                description = "Sequence length (default 224).")
        Integer seqLen;

        @Override
        public Integer call() throws Exception {
            Recipe r = Main.of(spec).recipe();
            DeviceRuntime.initialize(r.model().device());
            PolicyBenchOptions o = PolicyBenchOptions.defaults().withModel(r.model());
            if (checkpoint != null) {
                o = o.withCheckpoint(checkpoint);
            }
            if (rows != null || seqLen != null) {
                o =
                        o.withShape(
                                rows != null ? rows : o.rows(),
                                seqLen != null ? seqLen : o.seqLen());
            }
            PolicyBench.run(o, stdout());
            return 0;
        }
    }

    @Command(
            name = "estimator",
            description =
                    "Sampling throughput for a group, time of one coupled estimate and one"
                            + " Coupled-GRPO update per group, and the variance across mask seeds of"
                            + " the sequence log-prob estimate: coupled vs decoupled vs d1 at equal"
                            + " forward passes.")
    static final class Estimator implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(
                names = "--checkpoint",
                required = true,
                paramLabel = "DIR",
                description =
                        "A (pretrained) checkpoint, e.g. the one local mode caches under ~/.cache/diffustream/pretrained/*/checkpoint.")
        Path checkpoint;

        @Override
        public Integer call() throws Exception {
            Recipe r = Main.of(spec).recipe();
            DeviceRuntime.initialize(r.policy().device());
            if (!Files.isDirectory(checkpoint)) {
                throw new CliException("checkpoint directory " + checkpoint + " does not exist");
            }
            new EstimatorBench().run(EstimatorBench.Options.defaults(checkpoint), stdout());
            return 0;
        }
    }

    @Command(
            name = "sandbox",
            description =
                    "Isolated test executions per second (a correct solution with 5 asserts,"
                            + " concurrency = sandbox.workers), and in the same run a bare"
                            + " /usr/bin/python3 process per test and one bwrap launch per test.")
    static final class Sandbox implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(
                names = "--completions",
                paramLabel = "N",
                defaultValue = "200",
                description = "Completions to execute (5 tests each; default ${DEFAULT-VALUE}).")
        int completions;

        @Option(
                names = "--no-bwrap-baseline",
                description = "Skip the one-bwrap-per-test baseline.")
        boolean noBaseline;

        @Override
        public Integer call() throws Exception {
            Recipe r = Main.of(spec).recipe();
            SandboxBench.run(r.sandbox(), completions, !noBaseline, stdout());
            return 0;
        }
    }

    @Command(
            name = "streams",
            description =
                    "On a real local broker with exactly_once_v2: the raw produce->consume ceiling of"
                            + " realistic completions, throughput through the advantage topology, and"
                            + " the latency from a group's last execution to its AdvantageGroup at a"
                            + " steady 200 completions/s.")
    static final class Streams implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(
                names = "--completions",
                paramLabel = "N",
                defaultValue = "20000",
                description = "Completions in the throughput phases (default ${DEFAULT-VALUE}).")
        int completions;

        @Option(
                names = "--external",
                description =
                        "Use the recipe's kafka.bootstrap and kafka.registry instead of starting a local broker.")
        boolean external;

        @Override
        public Integer call() throws Exception {
            Recipe r = Main.of(spec).recipe();
            Path work = Files.createTempDirectory("diffustream-bench-streams");
            StreamsBench.Options d = StreamsBench.Options.defaults(work);
            StreamsBench.Options o =
                    new StreamsBench.Options(
                            completions,
                            d.groupSize(),
                            d.tokens(),
                            d.iterations(),
                            d.latencyRate(),
                            d.latencyDuration(),
                            d.partitions(),
                            r.advantages(),
                            work);
            if (external) {
                try (SchemaRegistry registry = Clients.registry(r.kafka())) {
                    StreamsBench.run(r.kafka(), registry, o, stdout());
                }
                return 0;
            }
            try (LocalKafka kafka = LocalKafka.builder().port(0).start();
                    RegistryServer server =
                            RegistryServer.builder().bootstrap(kafka.bootstrap()).port(0).start();
                    SchemaRegistry registry =
                            Clients.registry(
                                    r.kafka().withAddresses(kafka.bootstrap(), server.url()))) {
                KafkaConfig k = r.kafka().withAddresses(kafka.bootstrap(), server.url());
                StreamsBench.run(k, registry, o, stdout());
            }
            return 0;
        }
    }

    @Command(
            name = "rl-sanity",
            description =
                    "The RL loop on a few tasks in one process, no Kafka: each round samples a group"
                            + " per task with the current weights, executes it in the sandbox,"
                            + " computes advantages and runs one Coupled-GRPO batch. Prints the"
                            + " reward per round; a working update raises it.")
    static final class RlSanity implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(
                names = "--checkpoint",
                required = true,
                paramLabel = "DIR",
                description = "Starting checkpoint (e.g. the pretrained one local mode caches).")
        Path checkpoint;

        @Option(
                names = "--suite",
                paramLabel = "SPEC",
                description = "Task suite (default feeder.suite).")
        String suite;

        @Option(
                names = "--split",
                paramLabel = "SPLIT",
                defaultValue = "train",
                description = "Split to take the tasks from (default ${DEFAULT-VALUE}).")
        String split;

        @Option(
                names = "--tasks",
                paramLabel = "N",
                defaultValue = "4",
                description = "Tasks per round, one group each (default ${DEFAULT-VALUE}).")
        int tasks;

        @Option(
                names = "--offset",
                paramLabel = "I",
                defaultValue = "0",
                description = "Index of the first task in the split (default ${DEFAULT-VALUE}).")
        int offset;

        @Option(
                names = "--rounds",
                paramLabel = "R",
                defaultValue = "30",
                description =
                        "Rounds (batches; grpo.numIterations optimizer steps each; default ${DEFAULT-VALUE}).")
        int rounds;

        @Option(
                names = "--rotate",
                description =
                        "Take the next --tasks tasks of the split each round (no task repeats until"
                                + " the split is used up, as in the pipeline) instead of the same ones:"
                                + " measures generalisation rather than fitting.")
        boolean rotate;

        @Option(
                names = "--save",
                paramLabel = "DIR",
                description =
                        "Write the trained weights there (HF layout) when the rounds are done, e.g."
                                + " to compare with the start under 'diffustream eval'.")
        Path save;

        @Override
        public Integer call() throws Exception {
            Recipe r = Main.of(spec).recipe();
            if (!Files.isDirectory(checkpoint)) {
                throw new CliException("checkpoint directory " + checkpoint + " does not exist");
            }
            if (tasks < 1 || rounds < 1 || offset < 0) {
                throw new CliException(
                        "--tasks and --rounds must be >= 1 and --offset >= 0, got "
                                + tasks
                                + ", "
                                + rounds
                                + ", "
                                + offset);
            }
            TaskSplit s;
            try {
                s = TaskSplit.parse("--split", split);
            } catch (IllegalArgumentException e) {
                throw new CliException(e.getMessage());
            }
            List<CodeTask> all =
                    TaskSuites.open(suite != null ? suite : r.feeder().suite()).load(s);
            if (offset + tasks > all.size()) {
                throw new CliException(
                        "--offset "
                                + offset
                                + " + --tasks "
                                + tasks
                                + " exceeds the "
                                + all.size()
                                + " tasks of the split");
            }
            spec.commandLine()
                    .getErr()
                    .printf(
                            Locale.ROOT,
                            "rl-sanity: %d round(s) of %d task(s) of %s, completions of up to %d"
                                    + " tokens in %d diffusion steps, lr %.1e; %s%n",
                            rounds,
                            tasks,
                            split,
                            r.sampler().maxNewTokens(),
                            r.sampler().steps(),
                            r.grpo().learningRate(),
                            Main.of(spec).recipeSource());
            spec.commandLine().getErr().flush();
            DeviceRuntime.initialize(r.policy().device());
            try (LoadedPolicy policy =
                            LoadedPolicy.load(checkpoint, r.policy().device(), true, 0, null);
                    SandboxEngine engine = SandboxEngine.start(r.sandbox());
                    SandboxScorer scorer = new SandboxScorer(engine)) {
                RlSanityBench.run(
                        r,
                        policy,
                        rotate
                                ? all.subList(offset, all.size())
                                : all.subList(offset, offset + tasks),
                        scorer,
                        new RlSanityBench.Options(rounds, tasks, rotate, r.run().seed()),
                        stdout());
                if (save != null) {
                    HfCheckpoint.save(policy.model(), policy.tokenizer(), save);
                    spec.commandLine().getErr().println("rl-sanity: trained weights in " + save);
                }
            }
            return 0;
        }
    }
}

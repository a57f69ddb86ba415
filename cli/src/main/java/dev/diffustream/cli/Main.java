package dev.diffustream.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import dev.diffustream.infra.LocalKafkaException;
import dev.diffustream.infra.config.ConfigException;
import dev.diffustream.infra.config.ConfigLoader;
import dev.diffustream.infra.config.ConfigLoader.Loaded;
import dev.diffustream.infra.config.ConfigLoader.Setting;
import dev.diffustream.policy.tasks.TaskDataException;
import dev.diffustream.schemas.registry.SchemaRegistryException;
import dev.diffustream.schemas.telemetry.Telemetry;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code diffustream} command.
 *
 * <p><b>Adding a subcommand</b> is one class and one line: write a {@code @Command(name = "…")}
 * class implementing {@code Callable<Integer>} (see {@link TopicsCommand} for a small one), get the
 * resolved recipe with {@code Main.of(spec).recipe()} (a {@code @Spec CommandSpec spec} field), and
 * add the class to {@code subcommands} below. The global options ({@code --recipe}, {@code
 * --bootstrap}, {@code --registry}, {@code --prefix}, {@code --set}, {@code --verbose}) work on
 * every subcommand; errors thrown from {@code call()} are printed as one line (stack trace with
 * {@code --verbose}) with exit code 1. See cli/README.md.
 */
@Command(
        name = "diffustream",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description =
                "Asynchronous Coupled-GRPO post-training of masked-diffusion code models on Kafka.",
        subcommands = {
            InfraCommand.class,
            TopicsCommand.class,
            ConfigCommand.class,
            FeedCommand.class,
            ActorCommand.class,
            SandboxCommand.class,
            StreamsCommand.class,
            LearnerCommand.class,
            EvalCommand.class,
            PretrainCommand.class,
            LocalCommand.class,
            BenchCommand.class,
            HelpCommand.class,
            DashboardCommand.class,
            ReplayCommand.class,
            RescoreCommand.class,
        })
public final class Main implements Runnable {

    @Spec CommandSpec spec;

    @Option(
            names = "--recipe",
            scope = ScopeType.INHERIT,
            paramLabel = "FILE",
            description =
                    "Recipe YAML (defaults → this file → DIFFUSTREAM_* environment → options).")
    Path recipeFile;

    @Option(
            names = "--bootstrap",
            scope = ScopeType.INHERIT,
            paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (overrides kafka.bootstrap).")
    String bootstrap;

    @Option(
            names = "--registry",
            scope = ScopeType.INHERIT,
            paramLabel = "URL",
            description = "Schema registry URL (overrides kafka.registry).")
    String registry;

    @Option(
            names = "--prefix",
            scope = ScopeType.INHERIT,
            paramLabel = "PREFIX",
            description = "Topic prefix of the run (overrides kafka.topicPrefix).")
    String prefix;

    @Option(
            names = "--set",
            scope = ScopeType.INHERIT,
            paramLabel = "KEY=VALUE",
            description = "Sets any recipe key, e.g. --set kafka.partitions=2 (repeatable).")
    List<String> settings = new ArrayList<>();

    @Option(
            names = "--metrics-port",
            scope = ScopeType.INHERIT,
            paramLabel = "PORT",
            defaultValue = "${env:DIFFUSTREAM_METRICS_PORT}",
            description =
                    "Serve Prometheus metrics (JVM, Kafka clients, the pipeline's samples) at"
                            + " http://HOST:PORT/metrics while the command runs; 0 picks a free"
                            + " port. Default: off (or the DIFFUSTREAM_METRICS_PORT variable).")
    Integer metricsPort;

    boolean verbose;

    private Loaded<Recipe> loaded;

    @Option(
            names = {"-v", "--verbose"},
            scope = ScopeType.INHERIT,
            description = "Debug logging, and stack traces with errors.")
    void setVerbose(boolean verbose) {
        this.verbose = verbose;
        if (verbose) {
            Logs.verbose();
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The root command object of the command line a subcommand runs in. */
    public static Main of(CommandSpec spec) {
        return (Main) spec.root().userObject();
    }

    /** The recipe resolved from defaults, {@code --recipe}, the environment and the options. */
    public synchronized Recipe recipe() {
        return loadedRecipe().value();
    }

    /** The resolved recipe with its YAML rendering and hash. */
    public synchronized Loaded<Recipe> loadedRecipe() {
        if (loaded == null) {
            loaded = Recipe.loader().load(recipeFile, System.getenv(), commandLineSettings());
        }
        return loaded;
    }

    /**
     * Where the recipe comes from, for the first line a command prints: the {@code --recipe} file,
     * or the built-in defaults (the release's sampler settings, 256 tokens, which a tiny checkpoint
     * trained on 64-token completions cannot use).
     */
    public String recipeSource() {
        return recipeFile != null
                ? "recipe " + recipeFile
                : "built-in defaults (no --recipe; the tiny model needs recipes/local.yaml)";
    }

    /** Forgets the resolved recipe so the next {@link #recipe()} applies changed settings. */
    synchronized void resetRecipe() {
        loaded = null;
    }

    /** The loader used for the recipe (for {@code config --describe}). */
    public ConfigLoader<Recipe> loader() {
        return Recipe.loader();
    }

    /** Recipe keys that a command's own options set ({@link #setFromOption}). */
    private final List<Setting> optionSettings = new ArrayList<>();

    /**
     * Sets a recipe key on behalf of a command's own option (after --set), so that a bad value is
     * reported against that option ("option --estimator: ...") rather than a --set the user never
     * typed.
     */
    void setFromOption(String option, String path, String value) {
        optionSettings.add(new Setting(path, value, "option " + option));
    }

    List<Setting> commandLineSettings() {
        List<Setting> out = new ArrayList<>();
        for (String s : settings) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("option --set: expected KEY=VALUE, got '" + s + "'");
            }
            out.add(
                    new Setting(
                            s.substring(0, eq).strip(),
                            s.substring(eq + 1),
                            "option --set " + s.substring(0, eq).strip()));
        }
        out.addAll(optionSettings);
        if (bootstrap != null) {
            out.add(new Setting("kafka.bootstrap", bootstrap, "option --bootstrap"));
        }
        if (registry != null) {
            out.add(new Setting("kafka.registry", registry, "option --registry"));
        }
        if (prefix != null) {
            out.add(new Setting("kafka.topicPrefix", prefix, "option --prefix"));
        }
        return out;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests: no {@code System.exit}). */
    public static int run(String... args) {
        return newCommandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true))
                .execute(args);
    }

    /** The command line writing to {@code out} and {@code err}. */
    public static CommandLine newCommandLine(PrintWriter out, PrintWriter err) {
        Main main = new Main();
        CommandLine cmd = new CommandLine(main);
        addHelpOption(cmd);
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setExecutionExceptionHandler(
                (e, commandLine, parseResult) -> {
                    commandLine.getErr().println("diffustream: " + message(e));
                    if (main.verbose) {
                        e.printStackTrace(commandLine.getErr());
                    }
                    commandLine.getErr().flush();
                    return 1;
                });
        // --metrics-port: the Prometheus endpoint starts once per process, before the command.
        cmd.setExecutionStrategy(
                parseResult -> {
                    main.serveMetrics(parseResult, cmd.getErr());
                    return new CommandLine.RunLast().execute(parseResult);
                });
        return cmd;
    }

    /**
     * Gives every subcommand, at any depth, {@code -h/--help}: picocli's {@code
     * mixinStandardHelpOptions} on the root does not reach subcommands, so {@code diffustream local
     * --help} was an "Unknown option" error (and {@code eval --help} a "Missing required option"
     * one). Commands that define their own help option (picocli's {@code help}) keep it.
     */
    static void addHelpOption(CommandLine cmd) {
        for (CommandLine sub : cmd.getSubcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            if (spec.findOption("--help") == null && spec.findOption("-h") == null) {
                spec.addOption(
                        OptionSpec.builder("-h", "--help")
                                .usageHelp(true)
                                .description("Show this help message and exit.")
                                .build());
            }
            addHelpOption(sub);
        }
    }

    /** Starts the metrics endpoint if {@code --metrics-port} is set (not for help or version). */
    void serveMetrics(CommandLine.ParseResult parseResult, PrintWriter err) {
        if (metricsPort == null) {
            return;
        }
        for (CommandLine.ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.isUsageHelpRequested() || p.isVersionHelpRequested()) {
                return;
            }
        }
        try {
            URI url = Telemetry.global().serve(metricsPort);
            err.println("diffustream: metrics at " + url);
            err.flush();
        } catch (RuntimeException e) {
            throw new CommandLine.ExecutionException(
                    parseResult.commandSpec().commandLine(),
                    e.getMessage(),
                    new IllegalStateException("option --metrics-port: " + e.getMessage(), e));
        }
    }

    /** One line (or one block, for several config problems) saying what went wrong. */
    static String message(Throwable e) {
        if (e instanceof CliException
                || e instanceof ConfigException
                || e instanceof SchemaRegistryException
                || e instanceof LocalKafkaException
                || e instanceof TaskDataException
                || e instanceof IllegalArgumentException
                || e instanceof IllegalStateException) {
            return String.valueOf(e.getMessage());
        }
        if (e.getClass() == java.io.IOException.class && e.getMessage() != null) {
            // our own I/O messages say what is wrong ("DIR holds no weights: expected ..."); the
            // subclasses' (NoSuchFileException: PATH) need their class name to make sense
            return e.getMessage();
        }
        return e + " (run with --verbose for details)";
    }

    /** Switches logging between quiet (default, logback.xml) and debug. */
    static final class Logs {
        private Logs() {}

        static void verbose() {
            if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
                context.getLogger("dev.diffustream").setLevel(Level.DEBUG);
                context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(Level.INFO);
            }
        }

        /** A temporary level change, undone by {@link #close()}. */
        interface Quiet extends AutoCloseable {
            @Override
            void close();
        }

        /**
         * Holds back the Kafka clients' connection warnings ("Connection to node -1 could not be
         * established", twice a second) while a start-up check waits for a broker, unless verbose.
         */
        static Quiet quietKafkaNetwork() {
            Optional<LoggerContext> context = unlessVerbose();
            if (context.isEmpty()) {
                return () -> {};
            }
            ch.qos.logback.classic.Logger network =
                    context.get().getLogger("org.apache.kafka.clients.NetworkClient");
            Level before = network.getLevel();
            network.setLevel(Level.ERROR);
            return () -> network.setLevel(before);
        }

        /**
         * Errors only, unless verbose: for a process that is stopping, whose clients would
         * otherwise log a warning for every reconnect to a broker that stopped with it.
         */
        static void quietForShutdown() {
            unlessVerbose()
                    .ifPresent(
                            context -> {
                                for (String name :
                                        List.of(
                                                "dev.diffustream",
                                                "org.apache.kafka",
                                                org.slf4j.Logger.ROOT_LOGGER_NAME)) {
                                    context.getLogger(name).setLevel(Level.ERROR);
                                }
                            });
        }

        /** Logback's context, unless --verbose switched our loggers to DEBUG (then: empty). */
        private static Optional<LoggerContext> unlessVerbose() {
            if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context
                    && !context.getLogger("dev.diffustream").isDebugEnabled()) {
                return Optional.of(context);
            }
            return Optional.empty();
        }
    }

    /** The version from the jar manifest, or "dev". */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"diffustream " + (v == null ? "dev" : v)};
        }
    }
}

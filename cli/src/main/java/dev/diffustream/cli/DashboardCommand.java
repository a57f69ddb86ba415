package dev.diffustream.cli;

import dev.diffustream.infra.dashboard.Dashboard;
import dev.diffustream.infra.dashboard.WatchedGroup;
import dev.diffustream.learner.Learner;
import dev.diffustream.producers.actor.Actor;
import dev.diffustream.sandbox.service.SandboxService;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.SchemaRegistry;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code diffustream dashboard}: a web page that follows the recipe's run live from Kafka. Prints
 * {@code dashboard=URL} on its own line on standard output once it serves.
 */
@Command(
        name = "dashboard",
        description = {
            "Serves a live web page of the run: policy version, learner step, reward, held-out"
                    + " pass@1, staleness histogram, consumer lag, sandbox outcomes, throughput"
                    + " per stage and per-step plots, all read from the run's topics.",
            "Prints dashboard=URL when ready; runs until Ctrl-C (or --open-for)."
        })
final class DashboardCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--port",
            paramLabel = "P",
            defaultValue = "8090",
            description = "HTTP port (0: a free one; default ${DEFAULT-VALUE}).")
    int port;

    @Option(
            names = "--host",
            paramLabel = "ADDRESS",
            defaultValue = "localhost",
            description =
                    "Address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 to serve other"
                            + " machines).")
    String host;

    @Option(
            names = "--open-for",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Stop after this long (e.g. 30s, 10m); default: until interrupted.")
    Duration openFor;

    /** The consumer groups of the run's services, whose lag the page shows. */
    static List<WatchedGroup> watchedGroups(Recipe r) {
        String run = r.run().id();
        return List.of(
                new WatchedGroup(
                        "actors", Actor.consumerGroup(run), List.of(Topics.TASKS.baseName())),
                new WatchedGroup(
                        "sandboxes",
                        SandboxService.consumerGroup(run),
                        List.of(Topics.COMPLETIONS.baseName())),
                new WatchedGroup(
                        "streams",
                        StreamsCommand.forRun(r).applicationId(),
                        List.of(Topics.COMPLETIONS.baseName(), Topics.EXECUTIONS.baseName())),
                new WatchedGroup(
                        "learner",
                        Learner.consumerGroup(run),
                        List.of(Topics.ADVANTAGES.baseName())));
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Recipe r = Main.of(spec).recipe();
        KafkaConfig kafka = r.kafka();
        if (openFor != null && (openFor.isNegative() || openFor.isZero())) {
            throw new CliException("--open-for must be positive, got " + openFor);
        }
        // Fail fast with the address tried, instead of serving a page that only shows errors.
        try (KafkaAccess access = new KafkaAccess(kafka, Duration.ofSeconds(10))) {
            access.topicNames();
        }
        SchemaRegistry registry = Clients.registry(kafka);
        registry.subjects();

        Dashboard.Builder builder =
                Dashboard.builder()
                        .kafka(kafka)
                        .runId(r.run().id())
                        .host(host)
                        .port(port)
                        .registry(registry);
        watchedGroups(r).forEach(builder::watch);
        Dashboard dashboard;
        try {
            dashboard = builder.build().start();
        } catch (IllegalStateException e) {
            registry.close();
            throw new CliException(e.getMessage() + " (option --port)", e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook =
                new Thread(
                        () -> {
                            dashboard.close();
                            registry.close();
                            stopped.countDown();
                        },
                        "dashboard-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("dashboard=" + dashboard.url());
        out.flush();
        err.printf(
                "diffustream dashboard: run '%s' (topic prefix '%s') from %s; %s.%n",
                r.run().id(),
                kafka.topicPrefix(),
                kafka.bootstrap(),
                openFor == null ? "Ctrl-C to stop" : "open for " + openFor.toSeconds() + " s");
        err.flush();
        if (openFor == null) {
            stopped.await(); // the JVM exits through the shutdown hook (SIGINT/SIGTERM)
            return 0;
        }
        if (!stopped.await(openFor.toMillis(), TimeUnit.MILLISECONDS)) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                stopped.await(); // shutting down already: the hook closes everything
                return 0;
            }
            dashboard.close();
            registry.close();
        }
        return 0;
    }
}

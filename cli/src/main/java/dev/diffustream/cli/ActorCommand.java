package dev.diffustream.cli;

import dev.diffustream.infra.config.ConfigLoader.Loaded;
import dev.diffustream.policy.DeviceRuntime;
import dev.diffustream.producers.actor.Actor;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffustream actor}: samples groups for the run's tasks. */
@Command(
        name = "actor",
        description =
                "Consumes tasks (consumer group actors-<run>), samples G completions per task with the"
                        + " newest policy and publishes them with their behaviour log-probs, one"
                        + " transaction per group. Scale by starting more actors.")
final class ActorCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
            names = "--id",
            paramLabel = "ID",
            description =
                    "Actor instance id; must be unique among running actors and stable across"
                            + " restarts of one instance (it names the transactional id)."
                            + " Default: actor-<host>-<pid>.")
    String id;

    @Override
    public Integer call() throws Exception {
        Loaded<Recipe> loaded = Main.of(spec).loadedRecipe();
        Recipe r = loaded.value();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, Record> sections = new LinkedHashMap<>();
        sections.put("actor", r.actor());
        sections.put("sampler", r.sampler());
        sections.put("policy", r.policy());
        Startup.print(err, "actor", r, loaded.sha256(), sections);
        KafkaAccess.preflight("actor", r.kafka(), KafkaAccess.SERVICE_WAIT, err);
        DeviceRuntime.initialize(r.policy().device());
        String actorId =
                id != null
                        ? id
                        : "actor-"
                                + ManagementFactory.getRuntimeMXBean().getName().replace('@', '-');
        try (ServiceLoop loop = ServiceLoop.open("actor");
                RunContext ctx = new RunContext(r)) {
            Actor actor =
                    new Actor(
                            r.kafka(),
                            r.run(),
                            r.actor(),
                            r.policy(),
                            r.grpo(),
                            r.sampler(),
                            ctx.topics(),
                            ctx.checkpointStore(),
                            actorId);
            loop.run(actor, actor::run);
        }
        return 0;
    }
}

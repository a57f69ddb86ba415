package dev.diffustream.cli;

import dev.diffustream.infra.config.ConfigLoader.Loaded;
import dev.diffustream.learner.Learner;
import dev.diffustream.policy.DeviceRuntime;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code diffustream learner}: the Coupled-GRPO learner. */
@Command(
        name = "learner",
        description =
                "Consumes AdvantageGroups, trains Coupled-GRPO batches, publishes TrainSteps and"
                        + " Checkpoints (committed with the consumed offsets); resumes from the newest"
                        + " checkpoint. One learner per run.")
final class LearnerCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Loaded<Recipe> loaded = Main.of(spec).loadedRecipe();
        Recipe r = loaded.value();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, Record> sections = new LinkedHashMap<>();
        sections.put("learner", r.learner());
        sections.put("grpo", r.grpo());
        sections.put("policy", r.policy());
        Startup.print(err, "learner", r, loaded.sha256(), sections);
        KafkaAccess.preflight("learner", r.kafka(), KafkaAccess.SERVICE_WAIT, err);
        DeviceRuntime.initialize(r.policy().device());
        try (ServiceLoop loop = ServiceLoop.open("learner");
                RunContext ctx = new RunContext(r)) {
            Learner learner =
                    new Learner(
                            r.kafka(),
                            r.run(),
                            r.learner(),
                            r.policy(),
                            r.grpo(),
                            ctx.topics(),
                            ctx.checkpointStore(),
                            loaded.sha256(),
                            loaded.yaml(),
                            null);
            loop.run(learner, learner::run);
        }
        return 0;
    }
}

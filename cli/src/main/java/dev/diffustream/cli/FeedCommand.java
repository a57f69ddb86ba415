package dev.diffustream.cli;

import dev.diffustream.infra.config.ConfigLoader.Loaded;
import dev.diffustream.policy.tasks.TaskSuite;
import dev.diffustream.policy.tasks.TaskSuites;
import dev.diffustream.producers.feeder.Feeder;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code diffustream feed}: publishes the run's tasks, paced by the learner. */
@Command(
        name = "feed",
        description =
                "Publishes tasks from feeder.suite to the tasks topic in a seeded order for"
                        + " feeder.epochs epochs, never more than feeder.maxAheadGroups groups ahead"
                        + " of the learner; resumes where it stopped.")
final class FeedCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Loaded<Recipe> loaded = Main.of(spec).loadedRecipe();
        Recipe r = loaded.value();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, Record> sections = new LinkedHashMap<>();
        sections.put("feeder", r.feeder());
        Startup.print(err, "feed", r, loaded.sha256(), sections);
        TaskSuite suite = TaskSuites.open(r.feeder().suite()); // a bad suite fails before the wait
        KafkaAccess.preflight("feed", r.kafka(), KafkaAccess.SERVICE_WAIT, err);
        AtomicBoolean stop = new AtomicBoolean();
        try (ServiceLoop loop = ServiceLoop.open("feed");
                RunContext ctx = new RunContext(r)) {
            Feeder feeder = new Feeder(r.kafka(), r.run(), r.feeder(), ctx.topics(), suite);
            long[] last = {0};
            loop.run(
                    () -> stop.set(true),
                    () -> {
                        long n =
                                feeder.run(
                                        stop::get,
                                        (seq, total, consumed) -> {
                                            if (seq - last[0] >= 50 || seq + 1 == total) {
                                                err.printf(
                                                        "feed: task %d/%d published, learner has"
                                                                + " settled %d groups%n",
                                                        seq + 1, total, consumed);
                                                err.flush();
                                                last[0] = seq;
                                            }
                                        });
                        err.printf("feed: done, %d task(s) published by this run%n", n);
                    });
        }
        return 0;
    }
}

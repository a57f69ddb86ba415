package dev.diffustream.cli;

import dev.diffustream.infra.config.ConfigLoader.Loaded;
import dev.diffustream.streams.AdvantageConfig;
import dev.diffustream.streams.AdvantageService;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code diffustream streams}: the advantage topology. */
@Command(
        name = "streams",
        description =
                "Runs the advantage topology (exactly_once_v2): joins completions with executions,"
                        + " closes groups on count or deadline, emits AdvantageGroups.")
final class StreamsCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    /** The topology config of a run: its application id is made unique per run. */
    static AdvantageConfig forRun(Recipe r) {
        AdvantageConfig cfg = r.advantages();
        String defaultId = AdvantageConfig.defaults().applicationId();
        if (cfg.applicationId().equals(defaultId)) {
            cfg =
                    cfg.toBuilder()
                            .applicationId(
                                    (r.kafka().topicPrefix() + defaultId + "-" + r.run().id())
                                            .replaceAll("[^A-Za-z0-9._-]", "-"))
                            .build();
        }
        return cfg;
    }

    @Override
    public Integer call() throws Exception {
        Loaded<Recipe> loaded = Main.of(spec).loadedRecipe();
        Recipe r = loaded.value();
        PrintWriter err = spec.commandLine().getErr();
        AdvantageConfig cfg = forRun(r);
        Map<String, Record> sections = new LinkedHashMap<>();
        sections.put("advantages", cfg);
        sections.put("rewards", r.rewards());
        Startup.print(err, "streams", r, loaded.sha256(), sections);
        KafkaAccess.preflight("streams", r.kafka(), KafkaAccess.SERVICE_WAIT, err);
        try (ServiceLoop loop = ServiceLoop.open("streams");
                AdvantageService service = AdvantageService.forKafka(cfg, r.rewards(), r.kafka())) {
            int[] code = {0};
            loop.run(service, () -> code[0] = service.run());
            return code[0];
        }
    }
}

package dev.diffustream.streams;

import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RewardWeights;
import java.time.Duration;
import java.util.Map;

/**
 * The advantage service as its own JVM, so {@link AdvantageServiceIT} can kill it with SIGKILL.
 * Arguments: bootstrap, registry URL, topic prefix, application id, state dir.
 */
public final class AdvantageServiceProcess {
    private AdvantageServiceProcess() {}

    public static void main(String[] args) throws Exception {
        KafkaConfig kafka = new KafkaConfig(args[0], args[1], "", args[2], 2, (short) 1, Map.of());
        AdvantageConfig cfg = childConfig(args[3], args[4]);
        AdvantageService service = AdvantageService.forKafka(cfg, RewardWeights.defaults(), kafka);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close));
        service.start();
        if (service.awaitRunning(Duration.ofSeconds(60))) {
            System.out.println("ADVANTAGE-SERVICE-RUNNING");
            System.out.flush();
        }
        int code = service.run();
        System.exit(code);
    }

    /** The configuration the test's instances run with. */
    static AdvantageConfig childConfig(String applicationId, String stateDir) {
        return AdvantageConfig.defaults().toBuilder()
                .applicationId(applicationId)
                .stateDir(stateDir)
                .metricsIntervalMs(1_000)
                // The broker's minimum: a SIGKILLed member leaves the group within 6 s.
                .streams(Map.of("session.timeout.ms", "6000"))
                .build();
    }
}

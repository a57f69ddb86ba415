package dev.diffustream.cli;

import dev.diffustream.infra.config.ConfigLoader;
import dev.diffustream.infra.config.ConfigLoader.Loaded;
import dev.diffustream.infra.config.ConfigLoader.Setting;
import dev.diffustream.learner.Learner;
import dev.diffustream.learner.replay.CheckpointLocator;
import dev.diffustream.policy.store.CheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A recorded run as {@code replay} and {@code rescore} find it: its directory, the recipe it ran
 * with, and where its checkpoints are.
 *
 * <p>{@code --run DIR} is a local-mode run directory ({@code <run.dir>/<run.id>}: {@code
 * recipe.yaml}, {@code checkpoints/}, {@code kafka/}) or a learner's checkpoint store (the
 * directory holding {@code v000000/}). The recipe is the one the learner wrote into the starting
 * checkpoint ({@code v000000/recipe.yaml}: the learner's resolved recipe, every key), else the run
 * directory's {@code recipe.yaml}. It is authoritative: of the environment only the {@code
 * DIFFUSTREAM_KAFKA_*} variables apply (how to reach the cluster); {@code --set}, {@code
 * --bootstrap}, {@code --registry} and {@code --prefix} apply on top, for what-if replays and for
 * clusters.
 */
final class ReplayRun {

    private final Path dir;
    private final Path recipeFile;
    private final Loaded<Recipe> loaded;
    private final boolean explicitKafka;

    private ReplayRun(Path dir, Path recipeFile, Loaded<Recipe> loaded, boolean explicitKafka) {
        this.dir = dir;
        this.recipeFile = recipeFile;
        this.loaded = loaded;
        this.explicitKafka = explicitKafka;
    }

    /**
     * Opens the run in {@code dir}.
     *
     * @throws CliException naming the places looked at if no recipe is found
     */
    static ReplayRun open(Path dir, List<Setting> settings, Map<String, String> env) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) {
            throw new CliException("--run " + dir + ": no such directory");
        }
        String v0 = Learner.checkpointName(0);
        List<Path> candidates =
                List.of(
                        abs.resolve("checkpoints").resolve(v0).resolve("recipe.yaml"),
                        abs.resolve(v0).resolve("recipe.yaml"),
                        abs.resolve("recipe.yaml"));
        Path recipe = candidates.stream().filter(Files::isRegularFile).findFirst().orElse(null);
        if (recipe == null) {
            throw new CliException(
                    "--run "
                            + dir
                            + " is neither a run directory nor a checkpoint store: none of "
                            + candidates
                            + " exists");
        }
        Map<String, String> kafkaEnv = new TreeMap<>();
        env.forEach(
                (k, v) -> {
                    if (k.startsWith(ConfigLoader.ENV_PREFIX + "KAFKA_")) {
                        kafkaEnv.put(k, v);
                    }
                });
        Loaded<Recipe> loaded = Recipe.loader().load(recipe, kafkaEnv, settings);
        boolean explicit =
                kafkaEnv.containsKey(ConfigLoader.ENV_PREFIX + "KAFKA_BOOTSTRAP")
                        || settings.stream().anyMatch(s -> s.path().equals("kafka.bootstrap"));
        return new ReplayRun(abs, recipe, loaded, explicit);
    }

    Path dir() {
        return dir;
    }

    Path recipeFile() {
        return recipeFile;
    }

    Recipe recipe() {
        return loaded.value();
    }

    Loaded<Recipe> loaded() {
        return loaded;
    }

    /** Whether the cluster address was given (option, setting or environment). */
    boolean explicitKafka() {
        return explicitKafka;
    }

    /** A local run's kept broker data, {@code DIR/kafka}. */
    Path kafkaDataDir() {
        return dir.resolve("kafka");
    }

    /**
     * Finds recorded checkpoints by their URI in the run's store, else by name under {@code
     * DIR/checkpoints} or {@code DIR} (a run directory that was moved or copied).
     */
    CheckpointLocator locator() {
        CheckpointStore store;
        try {
            store = RunContext.checkpointStore(recipe());
        } catch (CliException e) {
            store = null; // a store we cannot open here: the roots may still hold the files
        }
        List<Path> roots = new ArrayList<>();
        roots.add(dir.resolve("checkpoints"));
        roots.add(dir);
        return CheckpointLocator.of(store, roots);
    }
}

package dev.diffustream.cli;

import dev.diffustream.policy.store.CheckpointStore;
import dev.diffustream.policy.store.LocalCheckpointStore;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.kafka.Clients;
import dev.diffustream.schemas.registry.SchemaRegistry;
import java.net.URI;
import java.nio.file.Path;

/**
 * What every service command derives from the resolved recipe: the run directory, the checkpoint
 * store, the registry client and the bound topics.
 */
final class RunContext implements AutoCloseable {

    private final Recipe recipe;
    private final SchemaRegistry registry;
    private final Topics topics;

    RunContext(Recipe recipe) {
        this.recipe = recipe;
        this.registry = Clients.registry(recipe.kafka());
        this.topics = new Topics(recipe.kafka().topicPrefix(), registry);
    }

    Recipe recipe() {
        return recipe;
    }

    Topics topics() {
        return topics;
    }

    SchemaRegistry registry() {
        return registry;
    }

    /** {@code <run.dir>/<run.id>}: checkpoints, metrics, plots of the run. */
    static Path runDir(Recipe recipe) {
        return Path.of(recipe.run().dir()).resolve(recipe.run().id()).toAbsolutePath().normalize();
    }

    Path runDir() {
        return runDir(recipe);
    }

    /** The learner's checkpoint store: {@code learner.checkpointStore} or the run directory's. */
    static CheckpointStore checkpointStore(Recipe recipe) {
        String configured = recipe.learner().checkpointStore();
        if (configured.isBlank()) {
            return new LocalCheckpointStore(runDir(recipe).resolve("checkpoints"));
        }
        if (configured.contains("://")) {
            URI uri = URI.create(configured);
            if (!"file".equals(uri.getScheme())) {
                throw new CliException(
                        "learner.checkpointStore '"
                                + configured
                                + "': only local/shared directories (file://) are supported");
            }
            return new LocalCheckpointStore(Path.of(uri));
        }
        return new LocalCheckpointStore(Path.of(configured));
    }

    CheckpointStore checkpointStore() {
        return checkpointStore(recipe);
    }

    @Override
    public void close() {
        registry.close();
    }
}

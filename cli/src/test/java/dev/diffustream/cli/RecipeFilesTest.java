package dev.diffustream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every recipe shipped in {@code recipes/} loads, and the local one is internally consistent. */
class RecipeFilesTest {

    private static Path root() {
        String r = System.getProperty("diffustream.root");
        return r != null ? Path.of(r) : Path.of("..");
    }

    @Test
    void shouldLoadEveryShippedRecipe() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(root().resolve("recipes"))) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertThat(files)
                .extracting(p -> p.getFileName().toString())
                .contains("local.yaml", "diffucoder-release.yaml", "pretrain-tiny.yaml");
        for (Path f : files) {
            // when loaded with no environment, then every key is known and every value valid
            Recipe r = Recipe.loader().load(f, Map.of()).value();
            assertThat(r.run().id()).as(f.toString()).isNotBlank();
        }
    }

    @Test
    void shouldDescribeTheSameSequencesInTheLocalRecipe() {
        Recipe r = Recipe.loader().load(root().resolve("recipes/local.yaml"), Map.of()).value();
        LocalRun.checkConsistency(r);
        assertThat(r.sampler().maxNewTokens()).isEqualTo(r.grpo().maxCompletionLength());
        assertThat(r.pretrain().systemPrompt()).isEqualTo(r.policy().systemPrompt());
    }

    @Test
    void shouldKeepTheRecipeReferenceInStepWithTheCode() throws IOException {
        // given the committed reference and the one the code describes
        String committed = Files.readString(root().resolve("docs/recipe-reference.md"));
        String generated = Recipe.loader().describeMarkdown();
        // then the committed table is exactly the generated one
        assertThat(committed)
                .as(
                        "docs/recipe-reference.md is stale: regenerate it with"
                                + " './diffustream config --describe --format markdown'")
                .contains(generated.strip());
    }
}

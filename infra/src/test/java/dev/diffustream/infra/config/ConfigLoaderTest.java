package dev.diffustream.infra.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.diffustream.infra.config.ConfigLoader.KeyDoc;
import dev.diffustream.infra.config.ConfigLoader.Loaded;
import dev.diffustream.schemas.config.KafkaConfig;
import dev.diffustream.schemas.config.RewardWeights;
import dev.diffustream.schemas.config.RunConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    enum Mode {
        FAST,
        SAFE
    }

    record Learner(
            @JsonPropertyDescription("Learning rate of Adam.") double learningRate,
            @JsonPropertyDescription("Batches per step.") int batches,
            @JsonPropertyDescription("Mode.") Mode mode,
            @JsonPropertyDescription("Step timeout.") Duration timeout,
            @JsonPropertyDescription("Task suites.") List<String> suites) {
        Learner {
            if (batches < 1) {
                throw new IllegalArgumentException("learner.batches must be >= 1, got " + batches);
            }
            suites = List.copyOf(suites);
        }

        static Learner defaults() {
            return new Learner(1e-6, 4, Mode.SAFE, Duration.ofSeconds(30), List.of("builtin"));
        }
    }

    record Recipe(
            @JsonPropertyDescription("Run identity.") RunConfig run,
            @JsonPropertyDescription("Kafka.") KafkaConfig kafka,
            @JsonPropertyDescription("Rewards.") RewardWeights rewards,
            @JsonPropertyDescription("Learner.") Learner learner) {
        public static Recipe defaults() {
            return new Recipe(
                    RunConfig.defaults(),
                    KafkaConfig.defaults(),
                    RewardWeights.defaults(),
                    Learner.defaults());
        }
    }

    private final ConfigLoader<Recipe> loader = ConfigLoader.of(Recipe.class);

    @TempDir Path tmp;

    private Path file(String name, String yaml) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void shouldGiveTheDefaultsWhenThereIsNoFileAndNoEnvironment() {
        // when loading nothing
        Loaded<Recipe> loaded = loader.load(null, Map.of());

        // then the record is its defaults
        assertThat(loaded.value()).isEqualTo(Recipe.defaults());
        assertThat(loaded.sha256()).hasSize(64).isEqualTo(ConfigLoader.sha256(Recipe.defaults()));
    }

    @Test
    void shouldLayerTheFileOverDefaultsAndTheEnvironmentOverTheFile() throws Exception {
        // given a file setting three keys and the environment overriding one of them
        Path f =
                file(
                        "r.yaml",
                        "kafka:\n  partitions: 8\n  topicPrefix: a.\nlearner:\n  learningRate: 2e-5\n");
        Map<String, String> env = Map.of("DIFFUSTREAM_KAFKA_PARTITIONS", "16");

        // when loaded
        Recipe r = loader.load(f, env).value();

        // then env beats file beats defaults
        assertThat(r.kafka().partitions()).isEqualTo(16);
        assertThat(r.kafka().topicPrefix()).isEqualTo("a.");
        assertThat(r.learner().learningRate()).isEqualTo(2e-5);
        assertThat(r.kafka().bootstrap()).isEqualTo(KafkaConfig.defaults().bootstrap());
        assertThat(r.learner().batches()).isEqualTo(4);
    }

    @Test
    void shouldMatchEnvironmentKeysCaseInsensitivelyWithOrWithoutUnderscores() {
        // given variables in several spellings, a map entry and a list
        Map<String, String> env =
                Map.of(
                        "DIFFUSTREAM_KAFKA_TOPICPREFIX", "x.",
                        "DIFFUSTREAM_LEARNER_LEARNING_RATE", "0.5",
                        "diffustream_learner_mode", "fast",
                        "DIFFUSTREAM_KAFKA_CLIENT_SECURITY_PROTOCOL", "SASL_SSL",
                        "DIFFUSTREAM_LEARNER_SUITES", "a, b,c",
                        "DIFFUSTREAM_LEARNER_TIMEOUT", "500ms");

        // when loaded
        Recipe r = loader.load(null, env).value();

        // then each reached its key
        assertThat(r.kafka().topicPrefix()).isEqualTo("x.");
        assertThat(r.learner().learningRate()).isEqualTo(0.5);
        assertThat(r.learner().mode()).isEqualTo(Mode.FAST);
        assertThat(r.kafka().client())
                .containsExactlyEntriesOf(Map.of("security.protocol", "SASL_SSL"));
        assertThat(r.learner().suites()).containsExactly("a", "b", "c");
        assertThat(r.learner().timeout()).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void shouldLetCommandLineOverridesBeatTheEnvironmentAndNameTheOptionWhenWrong() {
        // given the environment and the command line both setting the bootstrap
        Map<String, String> env = Map.of("DIFFUSTREAM_KAFKA_BOOTSTRAP", "env:1");
        List<ConfigLoader.Setting> cli =
                List.of(
                        new ConfigLoader.Setting("kafka.bootstrap", "cli:2", "option --bootstrap"),
                        new ConfigLoader.Setting(
                                "kafka.client.security.protocol", "SSL", "option --set"));

        // when loaded, then the command line wins and map keys keep their dots
        Recipe r = loader.load(null, env, cli).value();
        assertThat(r.kafka().bootstrap()).isEqualTo("cli:2");
        assertThat(r.kafka().client()).containsEntry("security.protocol", "SSL");

        // and a wrong path names the option
        assertThatThrownBy(
                        () ->
                                loader.load(
                                        null,
                                        Map.of(),
                                        List.of(
                                                new ConfigLoader.Setting(
                                                        "kafka.bootstrp", "x", "option --set"))))
                .hasMessage(
                        "option --set: unknown key 'kafka.bootstrp' (did you mean 'bootstrap'?)");
        assertThatThrownBy(
                        () ->
                                loader.load(
                                        null,
                                        Map.of(),
                                        List.of(
                                                new ConfigLoader.Setting(
                                                        "kafka.partitions",
                                                        "many",
                                                        "option --set"))))
                .hasMessage("option --set: 'kafka.partitions': expected integer, got 'many'");
    }

    @Test
    void shouldIgnoreVariablesThatNameNoSection() {
        // given variables of the launcher and the test cluster
        Map<String, String> env =
                Map.of("DIFFUSTREAM_CACHE_DIR", "/tmp/x", "DIFFUSTREAM_JAVA_OPTS", "-Xmx1g");

        // then they are not taken for recipe keys
        assertThat(loader.load(null, env).value()).isEqualTo(Recipe.defaults());
    }

    @Test
    void shouldNameTheFileLineAndAGuessWhenAKeyIsUnknown() throws Exception {
        // given a misspelt key on line 3
        Path f = file("x.yaml", "learner:\n  batches: 2\n  lerning_rate: 0.1\n");

        // when loaded, then the message names file, line, full key path and the likely key
        assertThatThrownBy(() -> loader.load(f, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage(
                        f
                                + ":3: unknown key 'learner.lerning_rate' (did you mean 'learningRate'?)");
    }

    @Test
    void shouldListTheKnownSectionsWhenASectionIsUnknown() throws Exception {
        Path f = file("x.yaml", "zzz:\n  a: 1\n");
        assertThatThrownBy(() -> loader.load(f, Map.of()))
                .hasMessageContaining(
                        f + ":1: unknown key 'zzz' (known keys: run, kafka, rewards, learner)");
    }

    @Test
    void shouldNameTheVariableWhenAnEnvironmentKeyIsUnknown() {
        assertThatThrownBy(() -> loader.load(null, Map.of("DIFFUSTREAM_KAFKA_PARTITONS", "3")))
                .isInstanceOf(ConfigException.class)
                .hasMessage(
                        "environment variable DIFFUSTREAM_KAFKA_PARTITONS: unknown key 'kafka.partitons' (did you mean 'partitions'?)");
    }

    @Test
    void shouldNameFileLineKeyAndExpectedTypeWhenAValueIsBad() throws Exception {
        // given a word where a number belongs, and an unknown enum symbol
        Path f = file("bad.yaml", "kafka:\n  partitions: four\nlearner:\n  mode: turbo\n");

        // when loaded, then both problems are reported at once with their lines
        assertThatThrownBy(() -> loader.load(f, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("2 configuration problems")
                .hasMessageContaining(f + ":2: 'kafka.partitions': expected integer, got 'four'")
                .hasMessageContaining(
                        f + ":4: 'learner.mode': expected one of FAST|SAFE, got 'turbo'");
    }

    @Test
    void shouldPointAtTheLineOfTheKeyWhenTheRecordRejectsAValue() throws Exception {
        // given a value the record's own validation refuses
        Path f = file("v.yaml", "run:\n  id: ok\nkafka:\n  bootstrap: h:1\n  partitions: 0\n");

        // then its message comes with the file and the line of the key it names
        assertThatThrownBy(() -> loader.load(f, Map.of()))
                .hasMessage(f + ":5: invalid 'kafka': kafka.partitions must be >= 1, got 0");
    }

    @Test
    void shouldNameTheLineWhenTheYamlIsMalformed() throws Exception {
        Path f = file("m.yaml", "kafka:\n  partitions: [1\n");
        assertThatThrownBy(() -> loader.load(f, Map.of()))
                .hasMessageStartingWith(f + ":")
                .hasMessageContaining("not valid YAML");
        Path d = file("d.yaml", "kafka:\n  partitions: 1\n  partitions: 2\n");
        assertThatThrownBy(() -> loader.load(d, Map.of()))
                .hasMessage(d + ":3: duplicate key 'partitions'");
        Path scalar = file("s.yaml", "kafka: 3\n");
        assertThatThrownBy(() -> loader.load(scalar, Map.of()))
                .hasMessageContaining(scalar + ":1: 'kafka' is a section");
    }

    @Test
    void shouldMergeMapsAndReplaceListsAndAcceptEmptySections() throws Exception {
        // given a map entry from the file, another from the env, a list and an empty section
        Path f =
                file(
                        "m.yaml",
                        "kafka:\n  client:\n    acks: all\nlearner:\n  suites: [x]\nrewards:\n");
        Recipe r = loader.load(f, Map.of("DIFFUSTREAM_KAFKA_CLIENT_LINGER_MS", "5")).value();

        // then the map has both, the list is replaced and the empty section keeps its defaults
        assertThat(r.kafka().client()).isEqualTo(Map.of("acks", "all", "linger.ms", "5"));
        assertThat(r.learner().suites()).containsExactly("x");
        assertThat(r.rewards()).isEqualTo(RewardWeights.defaults());
    }

    @Test
    void shouldLoadItsOwnRenderingBackToTheSameRecord() {
        // given values that YAML could misread if written bare
        Recipe tricky =
                new Recipe(
                        new RunConfig("007", 7, "true"),
                        new KafkaConfig(
                                "h:1,h:2",
                                "http://r:8081",
                                "",
                                "null",
                                3,
                                (short) 1,
                                Map.of("a.b", "yes", "c", "1.5")),
                        new RewardWeights(2.0, 0.5),
                        new Learner(
                                1e-5,
                                2,
                                Mode.FAST,
                                Duration.ofMinutes(2),
                                List.of("a: b", "#x", "")));

        // when rendered and loaded again
        String yaml = ConfigLoader.toYaml(tricky);
        Recipe again = loader.load(yaml, "rendered", Map.of()).value();

        // then nothing changed
        assertThat(again).isEqualTo(tricky);
        assertThat(yaml).startsWith("run:\n  id: \"007\"");
    }

    @Test
    void shouldHashByContentNotByMapOrder() {
        // given two equal configs whose maps were built in different orders, and a different one
        KafkaConfig a = KafkaConfig.defaults();
        Recipe r1 =
                new Recipe(
                        RunConfig.defaults(),
                        new KafkaConfig(
                                a.bootstrap(),
                                a.registry(),
                                "",
                                "",
                                4,
                                (short) 1,
                                new java.util.LinkedHashMap<>(Map.of("x", "1", "y", "2"))),
                        RewardWeights.defaults(),
                        Learner.defaults());
        java.util.LinkedHashMap<String, String> reversed = new java.util.LinkedHashMap<>();
        reversed.put("y", "2");
        reversed.put("x", "1");
        Recipe r2 =
                new Recipe(
                        RunConfig.defaults(),
                        new KafkaConfig(
                                a.bootstrap(), a.registry(), "", "", 4, (short) 1, reversed),
                        RewardWeights.defaults(),
                        Learner.defaults());
        Recipe r3 =
                new Recipe(
                        RunConfig.defaults(),
                        KafkaConfig.defaults(),
                        new RewardWeights(2.0, 0.6),
                        Learner.defaults());

        // then equal content hashes equal and a changed weight does not
        assertThat(ConfigLoader.sha256(r1)).isEqualTo(ConfigLoader.sha256(r2));
        assertThat(ConfigLoader.sha256(r1)).isNotEqualTo(ConfigLoader.sha256(r3));
        assertThat(ConfigLoader.canonical(r1)).contains("kafka:\n  bootstrap:");
        assertThat(ConfigLoader.canonical(r1).indexOf("kafka:"))
                .isLessThan(ConfigLoader.canonical(r1).indexOf("run:"));
    }

    @Test
    void shouldDocumentEveryKeyWithTypeDefaultDescriptionAndVariable() {
        // when described
        List<KeyDoc> docs = loader.describe();

        // then every leaf of every section is there with its default and description
        assertThat(docs)
                .extracting(KeyDoc::path)
                .contains(
                        "run",
                        "run.id",
                        "kafka.partitions",
                        "kafka.client",
                        "learner.timeout",
                        "learner.suites");
        KeyDoc partitions =
                docs.stream()
                        .filter(d -> d.path().equals("kafka.partitions"))
                        .findFirst()
                        .orElseThrow();
        assertThat(partitions.type()).isEqualTo("integer");
        assertThat(partitions.defaultValue()).isEqualTo("4");
        assertThat(partitions.description()).startsWith("Partitions of the tasks");
        assertThat(partitions.env()).isEqualTo("DIFFUSTREAM_KAFKA_PARTITIONS");
        assertThat(
                        docs.stream()
                                .filter(d -> d.path().equals("kafka.client"))
                                .findFirst()
                                .orElseThrow()
                                .env())
                .isEqualTo("DIFFUSTREAM_KAFKA_CLIENT_<KEY>");
        assertThat(docs)
                .allSatisfy(d -> assertThat(d.description()).isNotEqualTo("(undocumented)"));
        assertThat(loader.describeMarkdown())
                .contains("| `learner.mode` | one of FAST|SAFE".replace("|SAFE", "\\|SAFE"));
        assertThat(loader.describeText()).contains("kafka.partitions  (integer, default 4)");
    }

    @Test
    void shouldSuggestTheClosestKeyOnlyWhenItIsClose() {
        assertThat(ConfigLoader.suggestion("lerning_rate", List.of("learningRate", "batches")))
                .isEqualTo(" (did you mean 'learningRate'?)");
        assertThat(ConfigLoader.suggestion("PARTITIONS", List.of("partitions")))
                .isEqualTo(" (did you mean 'partitions'?)");
        assertThat(ConfigLoader.suggestion("zebra", List.of("learningRate", "batches")))
                .isEqualTo(" (known keys: learningRate, batches)");
    }
}

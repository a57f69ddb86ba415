package dev.diffustream.infra.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.infra.TopicBootstrap;
import dev.diffustream.infra.TopicBootstrap.TopicSpec;
import dev.diffustream.schemas.TopicDef;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.config.KafkaConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The deployment files under infra/deploy and docker-compose.yml agree with the code and with each
 * other: the topic list with {@link Topics#ALL}, the topic script with {@link TopicBootstrap}, the
 * compose recipe with the compose services.
 */
class DeployFilesTest {

    private static final Path ROOT = repositoryRoot();
    private static final Path DEPLOY = ROOT.resolve("infra/deploy");

    /**
     * {@code diffustream.root} (set by surefire), or the first directory above holding the files.
     */
    private static Path repositoryRoot() {
        Path start =
                Path.of(System.getProperty("diffustream.root", ".")).toAbsolutePath().normalize();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("infra/deploy/topics.json"))) {
                return p;
            }
        }
        throw new IllegalStateException(
                "no repository root (with infra/deploy/topics.json) at or above " + start);
    }

    private static JsonNode topicsJson() throws IOException {
        return new ObjectMapper().readTree(DEPLOY.resolve("topics.json").toFile());
    }

    private static Map<String, String> strings(JsonNode object) {
        Map<String, String> out = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    @Test
    void shouldListEveryTopicOfTheCodeInTopicsJson() throws IOException {
        // given the topic list shipped for cluster operators
        JsonNode topics = topicsJson().get("topics");

        // then it has the code's topics, in order, with their keys, types, writers and configs
        assertThat(topics).hasSize(Topics.ALL.size());
        for (int i = 0; i < Topics.ALL.size(); i++) {
            TopicDef<?> def = Topics.ALL.get(i);
            JsonNode t = topics.get(i);
            assertThat(t.get("name").asText()).isEqualTo(def.baseName());
            assertThat(t.get("key").asText()).as(def.baseName()).isEqualTo(def.keyDoc());
            assertThat(t.get("value").asText())
                    .as(def.baseName())
                    .isEqualTo(def.valueType().getSimpleName());
            assertThat(t.get("writer").asText()).as(def.baseName()).isEqualTo(def.writer());
            assertThat(t.get("coPartitioned").asBoolean())
                    .as(def.baseName())
                    .isEqualTo(def.coPartitioned());
            assertThat(t.get("partitions").asText())
                    .as(def.baseName())
                    .isEqualTo(def.singlePartition() ? "1" : "kafka.partitions");
            assertThat(strings(t.get("configs")))
                    .as(def.baseName())
                    .isEqualTo(new TreeMap<>(def.configs()));
        }
    }

    @Test
    void shouldMakeTheTopicScriptCreateWhatTopicBootstrapCreates() throws Exception {
        // given a run with a prefix, 6 partitions and 3 replicas
        KafkaConfig kafka =
                new KafkaConfig("b:9092", "http://r:8081", "", "run7.", 6, (short) 3, Map.of());

        // when the script prints its commands
        List<String> lines =
                run(
                        "bash",
                        DEPLOY.resolve("create-topics.sh").toString(),
                        "--bootstrap-server",
                        "b:9092",
                        "--command-config",
                        "/etc/client.properties",
                        "--prefix",
                        "run7.",
                        "--partitions",
                        "6",
                        "--replication-factor",
                        "3",
                        "--dry-run");

        // then each command creates one planned topic with its partitions, replicas and configs
        List<TopicSpec> plan = TopicBootstrap.plan(kafka);
        assertThat(lines).hasSize(plan.size());
        for (int i = 0; i < plan.size(); i++) {
            TopicSpec spec = plan.get(i);
            List<String> args = List.of(lines.get(i).trim().split(" "));
            assertThat(value(args, "--topic")).isEqualTo(spec.name());
            assertThat(value(args, "--partitions")).isEqualTo(Integer.toString(spec.partitions()));
            assertThat(value(args, "--replication-factor")).isEqualTo("3");
            assertThat(value(args, "--bootstrap-server")).isEqualTo("b:9092");
            assertThat(value(args, "--command-config")).isEqualTo("/etc/client.properties");
            assertThat(args).contains("--create", "--if-not-exists");
            Map<String, String> configs = new TreeMap<>();
            for (int j = 0; j < args.size() - 1; j++) {
                if (args.get(j).equals("--config")) {
                    String[] kv = args.get(j + 1).split("=", 2);
                    configs.put(kv[0], kv[1]);
                }
            }
            assertThat(configs).as(spec.name()).isEqualTo(new TreeMap<>(spec.configs()));
        }
    }

    @Test
    void shouldRejectAScriptCallWithoutBootstrapServer() throws Exception {
        Process p =
                new ProcessBuilder(
                                "bash", DEPLOY.resolve("create-topics.sh").toString(), "--dry-run")
                        .redirectErrorStream(true)
                        .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(out).contains("--bootstrap-server is required");
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldPointTheComposeRecipeAtTheComposeServices() throws IOException {
        // given the compose file (anchors and merge keys resolved) and its recipe
        Map<String, Object> compose = yaml(ROOT.resolve("docker-compose.yml"));
        Map<String, Object> services = (Map<String, Object>) compose.get("services");
        Map<String, Object> recipe = yaml(DEPLOY.resolve("recipe-compose.yaml"));
        Map<String, Object> kafka = (Map<String, Object>) recipe.get("kafka");
        String bootstrap = (String) kafka.get("bootstrap");
        String registry = (String) kafka.get("registry");

        // then the broker advertises the recipe's bootstrap, and the registry and Kafka UI use it
        assertThat(env(services, "kafka").get("KAFKA_ADVERTISED_LISTENERS"))
                .contains("PLAINTEXT://" + bootstrap);
        assertThat(
                        env(services, "schema-registry")
                                .get("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"))
                .isEqualTo("PLAINTEXT://" + bootstrap);
        assertThat(env(services, "kafka-ui").get("KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"))
                .isEqualTo(bootstrap);
        // and the registry the services use is the one Kafka UI decodes records with
        assertThat(env(services, "kafka-ui").get("KAFKA_CLUSTERS_0_SCHEMAREGISTRY"))
                .isEqualTo(registry);
        assertThat(registry).startsWith("http://schema-registry:");
        assertThat(env(services, "schema-registry").get("SCHEMA_REGISTRY_LISTENERS"))
                .endsWith(":" + registry.substring(registry.lastIndexOf(':') + 1));

        // and every pipeline service runs our image with the recipe mounted where it is read
        for (String name :
                List.of(
                        "topics-init",
                        "pretrain",
                        "feeder",
                        "actor",
                        "sandbox",
                        "streams",
                        "learner")) {
            Map<String, Object> s = (Map<String, Object>) services.get(name);
            assertThat(s).as(name).isNotNull();
            assertThat((String) s.get("image")).as(name).startsWith("diffustream:");
            String recipePath = env(services, name).get("DIFFUSTREAM_RECIPE");
            assertThat(recipePath).as(name).isEqualTo("/etc/diffustream/recipe.yaml");
            assertThat((List<String>) s.get("volumes"))
                    .as(name)
                    .contains("./infra/deploy/recipe-compose.yaml:" + recipePath + ":ro");
        }

        // and the scalable services have no fixed name or host port
        for (String name : List.of("actor", "sandbox", "feeder", "streams")) {
            Map<String, Object> s = (Map<String, Object>) services.get(name);
            assertThat(s).as(name).doesNotContainKeys("container_name", "ports");
        }

        // and the learner writes checkpoints where actors read them, from the pretrained volume
        String store =
                (String) ((Map<String, Object>) recipe.get("learner")).get("checkpointStore");
        String init = (String) ((Map<String, Object>) recipe.get("policy")).get("init");
        List<String> learner =
                (List<String>) ((Map<String, Object>) services.get("learner")).get("volumes");
        List<String> actor =
                (List<String>) ((Map<String, Object>) services.get("actor")).get("volumes");
        assertThat(learner).contains("checkpoints:" + store);
        assertThat(actor).contains("checkpoints:" + store + ":ro");
        String pretrainedMount =
                ((List<String>) ((Map<String, Object>) services.get("pretrain")).get("volumes"))
                        .stream()
                                .filter(v -> v.startsWith("pretrained:"))
                                .findFirst()
                                .orElseThrow()
                                .split(":")[1];
        assertThat(init).startsWith(pretrainedMount + "/");
        assertThat(learner).contains("pretrained:" + pretrainedMount + ":ro");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> env(Map<String, Object> services, String name) {
        Map<String, Object> service = (Map<String, Object>) services.get(name);
        assertThat(service).as("service " + name).isNotNull();
        Map<String, String> out = new LinkedHashMap<>();
        ((Map<String, Object>) service.get("environment"))
                .forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }

    private static Map<String, Object> yaml(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return new Yaml().load(in);
        }
    }

    private static String value(List<String> args, String option) {
        int i = args.indexOf(option);
        assertThat(i).as(option + " in " + args).isGreaterThanOrEqualTo(0);
        return args.get(i + 1);
    }

    private static List<String> run(String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("PYTHON", "/usr/bin/python3");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("exit code; stderr: " + err).isZero();
        List<String> lines = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                lines.add(line);
            }
        }
        return lines;
    }
}

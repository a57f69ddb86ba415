package dev.diffustream.infra.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.schemas.registry.RestSchemaRegistry;
import dev.diffustream.schemas.registry.SchemaRegistryException;
import dev.diffustream.schemas.testing.Samples;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/** The stand-in storing its schemas in a real Kafka topic. */
class RegistryServerIT {

    private static Schema thing(int fields) {
        SchemaBuilder.FieldAssembler<Schema> f =
                SchemaBuilder.record("Thing").namespace("it").fields().requiredString("id");
        for (int i = 1; i < fields; i++) {
            f = f.name("f" + i).type().intType().intDefault(i);
        }
        return f.endRecord();
    }

    private static RegistryServer start(String topic) {
        return RegistryServer.builder()
                .bootstrap(TestCluster.shared().bootstrap())
                .topic(topic)
                .port(0)
                .start();
    }

    @Test
    void shouldKeepIdsVersionsAndConfigWhenRestartedOnTheSameTopic() throws Exception {
        // given a registry that stored the event schemas, two versions of a subject and a config
        String topic = "_schemas-" + TestCluster.newPrefix("restart");
        Map<String, Integer> ids = new HashMap<>();
        int thing2;
        try (RegistryServer first = start(topic)) {
            RestSchemaRegistry client = new RestSchemaRegistry(first.url());
            for (SpecificRecord r : Samples.oneOfEach()) {
                ids.put(
                        r.getSchema().getName() + "-value",
                        client.register(r.getSchema().getName() + "-value", r.getSchema()));
            }
            client.register("thing-value", thing(1));
            thing2 = client.register("thing-value", thing(2));
            client.setCompatibility("FULL");
            System.out.println("registry started in " + first.startupTime().toMillis() + " ms");
        }

        // when a new registry starts on the same topic
        try (RegistryServer second = start(topic)) {
            System.out.println(
                    "registry restarted in " + second.startupTime().toMillis() + " ms (replay)");
            RestSchemaRegistry client = new RestSchemaRegistry(second.url());

            // then it knows every id, version and the config
            for (Map.Entry<String, Integer> e : ids.entrySet()) {
                assertThat(client.latest(e.getKey()).id()).as(e.getKey()).isEqualTo(e.getValue());
                assertThat(client.schemaById(e.getValue()).getName() + "-value")
                        .isEqualTo(e.getKey());
            }
            assertThat(client.latest("thing-value").version()).isEqualTo(2);
            assertThat(client.latest("thing-value").id()).isEqualTo(thing2);
            assertThat(client.compatibility()).isEqualTo("FULL");
            // and a new schema gets an id no one had
            int fresh = client.register("thing-value", thing(3));
            assertThat(new HashSet<>(ids.values())).doesNotContain(fresh);
            assertThat(fresh).isGreaterThan(thing2);
        }
    }

    @Test
    void shouldRejectAnIncompatibleSchemaWith409WhenStoredInKafka() {
        // given a subject with v1 on a Kafka-backed registry
        try (RegistryServer server = start("_schemas-" + TestCluster.newPrefix("compat"))) {
            RestSchemaRegistry client = new RestSchemaRegistry(server.url());
            client.register("thing-value", thing(1));
            Schema required =
                    SchemaBuilder.record("Thing")
                            .namespace("it")
                            .fields()
                            .requiredString("id")
                            .requiredLong("n")
                            .endRecord();

            // when an incompatible v2 is registered, then the client surfaces the 409 reason
            assertThatThrownBy(() -> client.register("thing-value", required))
                    .isInstanceOfSatisfying(
                            SchemaRegistryException.class,
                            e -> assertThat(e.status()).isEqualTo(409))
                    .hasMessageContaining("READER_FIELD_MISSING_DEFAULT_VALUE")
                    .hasMessageContaining(server.url());
        }
    }

    @Test
    void shouldNeverGiveOneIdToTwoSchemasWhenTwoRegistriesShareTheTopic() throws Exception {
        // given two registry instances on one store topic
        String topic = "_schemas-" + TestCluster.newPrefix("shared");
        try (RegistryServer a = start(topic);
                RegistryServer b = start(topic)) {
            RestSchemaRegistry ca = new RestSchemaRegistry(a.url());
            RestSchemaRegistry cb = new RestSchemaRegistry(b.url());

            // when both register different schemas at the same time
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<Map.Entry<Schema, Integer>>> results = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                Schema s =
                        SchemaBuilder.record("T" + i)
                                .namespace("it")
                                .fields()
                                .requiredString("id")
                                .endRecord();
                RestSchemaRegistry client = i % 2 == 0 ? ca : cb;
                String subject = "s" + i + "-value";
                Callable<Map.Entry<Schema, Integer>> task =
                        () -> Map.entry(s, client.register(subject, s));
                results.add(pool.submit(task));
            }
            Map<Integer, Schema> byId = new HashMap<>();
            for (Future<Map.Entry<Schema, Integer>> f : results) {
                Map.Entry<Schema, Integer> e = f.get();
                Schema previous = byId.put(e.getValue(), e.getKey());
                // then no id was handed out twice
                assertThat(previous).as("id " + e.getValue()).isNull();
            }
            pool.shutdown();

            // and both instances resolve every id to the same schema
            for (Map.Entry<Integer, Schema> e : byId.entrySet()) {
                assertThat(new RestSchemaRegistry(a.url()).schemaById(e.getKey()))
                        .isEqualTo(e.getValue());
                assertThat(new RestSchemaRegistry(b.url()).schemaById(e.getKey()))
                        .isEqualTo(e.getValue());
            }
        }
    }
}

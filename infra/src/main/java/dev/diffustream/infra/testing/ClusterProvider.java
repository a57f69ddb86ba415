package dev.diffustream.infra.testing;

import dev.diffustream.infra.LocalKafka;

/** Starts the broker and registry a {@link TestCluster} runs on (see its class comment). */
@FunctionalInterface
interface ClusterProvider {

    /**
     * A running broker and registry.
     *
     * @param provider {@code local}, {@code testcontainers} or {@code external}
     * @param bootstrap Kafka bootstrap address reachable from the test JVM
     * @param registryUrl schema registry base URL reachable from the test JVM
     * @param localKafka the local broker, or null when the broker is not a {@link LocalKafka}
     * @param stopper stops what the provider started (a no-op for an external cluster)
     */
    record Running(
            String provider,
            String bootstrap,
            String registryUrl,
            LocalKafka localKafka,
            AutoCloseable stopper) {}

    /** Starts (or connects to) the cluster; called once per test JVM. */
    Running start();
}

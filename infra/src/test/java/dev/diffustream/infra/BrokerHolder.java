package dev.diffustream.infra;

/**
 * Starts a broker on a temporary directory, prints {@code <broker pid> <data dir>} and waits: the
 * parent process that {@link LocalKafkaIT} kills with SIGKILL.
 */
public final class BrokerHolder {
    private BrokerHolder() {}

    public static void main(String[] args) throws InterruptedException {
        LocalKafka kafka = LocalKafka.builder().start();
        System.out.println(kafka.pid() + " " + kafka.dataDir());
        System.out.flush();
        Thread.sleep(600_000);
    }
}

package dev.diffustream.schemas.registry;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RestSchemaRegistryTest {

    @Test
    void shouldNameUrlAndWhatToCheckWhenRegistryIsUnreachable() throws IOException {
        // given a port nobody listens on
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        RestSchemaRegistry client =
                new RestSchemaRegistry(
                        "http://127.0.0.1:" + port + "/",
                        null,
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(2));
        // then the error names the URL and the subject
        assertThatThrownBy(() -> client.latest("tasks-value"))
                .isInstanceOf(SchemaRegistryException.class)
                .hasMessageContaining("http://127.0.0.1:" + port + "/subjects/tasks-value")
                .hasMessageContaining("subject 'tasks-value'")
                .hasMessageContaining("Check that the registry is running");
    }

    @Test
    void shouldRejectMalformedUrl() {
        assertThatThrownBy(() -> new RestSchemaRegistry("localhost:8081"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'localhost:8081' is not a valid http(s) URL");
    }
}

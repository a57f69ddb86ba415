package dev.diffustream.infra.dashboard;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChromiumTest {

    @Test
    void shouldFailWithTheInstallCommandWhenChromiumIsMissing(@TempDir Path empty) {
        // given a search path without any chromium, and a configured binary that does not exist
        String path = empty.toString();

        // when / then the browser test fails (never skips) and says how to install it
        assertThatThrownBy(() -> Chromium.find(empty, empty.resolve("nope").toString(), path))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("apt-get install -y chromium")
                .hasMessageContaining(path);
    }
}

package dev.diffustream.infra.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TestClusterProviderTest {

    private static final String[] PROPERTIES = {
        TestCluster.PROVIDER_PROPERTY, "diffustream.test.bootstrap", "diffustream.test.registry"
    };

    private final Map<String, String> saved = new HashMap<>();

    @BeforeEach
    void clearSettings() {
        // the build may set them (-Ptestcontainers): each test starts from none
        for (String p : PROPERTIES) {
            saved.put(p, System.getProperty(p));
            System.clearProperty(p);
        }
    }

    @AfterEach
    void restoreSettings() {
        saved.forEach(
                (k, v) -> {
                    if (v == null) {
                        System.clearProperty(k);
                    } else {
                        System.setProperty(k, v);
                    }
                });
    }

    @Test
    void shouldUseTheLocalClusterWhenNothingIsSet() {
        // the default never depends on Docker (and so never skips)
        assertThat(TestCluster.providerName()).isEqualTo("local");
    }

    @Test
    void shouldUseTestcontainersWhenTheProfileAsksForIt() {
        System.setProperty(TestCluster.PROVIDER_PROPERTY, " TestContainers ");
        assertThat(TestCluster.providerName()).isEqualTo("testcontainers");
    }

    @Test
    void shouldPreferAnExternalClusterWhenBothAddressesAreSet() {
        System.setProperty(TestCluster.PROVIDER_PROPERTY, "testcontainers");
        System.setProperty("diffustream.test.bootstrap", "localhost:9092");
        assertThat(TestCluster.providerName()).isEqualTo("testcontainers");

        System.setProperty("diffustream.test.registry", "http://localhost:8081");
        assertThat(TestCluster.providerName()).isEqualTo("external");
    }

    @Test
    void shouldNameTheValidProvidersWhenTheSettingIsUnknown() {
        System.setProperty(TestCluster.PROVIDER_PROPERTY, "docker");
        assertThatThrownBy(TestCluster::providerName)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("diffustream.test.cluster='docker' is not a test cluster")
                .hasMessageContaining("'local'")
                .hasMessageContaining("'testcontainers'");
    }

    @Test
    void shouldSayHowToBuildTheProviderWhenItsClassIsMissing() {
        assertThatThrownBy(() -> TestCluster.loadProvider("dev.diffustream.infra.testing.Nope"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is not on the classpath")
                .hasMessageContaining("mvn -Ptestcontainers verify");
    }
}

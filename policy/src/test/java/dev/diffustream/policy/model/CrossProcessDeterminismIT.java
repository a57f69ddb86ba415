package dev.diffustream.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Replays need bit-identical results across runs on one machine: the same forward and backward in
 * two fresh JVMs (fresh allocations, fresh thread pools) and in this one give the same bytes.
 */
class CrossProcessDeterminismIT {

    @Test
    void shouldGiveBitIdenticalLogitsAndGradientsWhenRunInSeparateJvms() throws Exception {
        // given
        String here = DeterminismProbe.run();

        // when: two JVMs at once (they also compete for the cores, as a busy machine would)
        Process a = startProbe();
        Process b = startProbe();
        String first = digestOf(a);
        String second = digestOf(b);

        // then
        assertThat(first).isEqualTo(second).isEqualTo(here).hasSize(64);
    }

    private static Process startProbe() throws Exception {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>();
        cmd.add(java.toString());
        cmd.add("-Dai.djl.offline=true");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(DeterminismProbe.class.getName());
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static String digestOf(Process p) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(text).isZero();
        for (String line : text.split("\n")) {
            if (line.startsWith("PROBE ")) {
                return line.substring(6).trim();
            }
        }
        throw new AssertionError("probe printed no digest:\n" + text);
    }
}

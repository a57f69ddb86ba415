package dev.diffustream.sandbox.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.diffustream.sandbox.ExecutionResult;
import dev.diffustream.sandbox.SandboxConfig;
import dev.diffustream.schemas.avro.Outcome;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OneOffRunnerTest {
    private static final SandboxConfig CONFIG =
            SandboxConfig.defaults().toBuilder().uidBase(64150).build();

    @TempDir Path dir;

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    @Test
    void shouldPrintTheExecutionAsJson() throws IOException {
        // given a completion as the model wrote it and a tests file with a blank line and a comment
        Path code =
                write("completion.txt", "Sure:\n```python\ndef inc(x):\n    return x + 1\n```\n");
        Path tests = write("tests.txt", "# tests\nassert inc(1) == 2\n\nassert inc(2) == 4\n");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        // when
        ExecutionResult r =
                OneOffRunner.run(
                        code,
                        tests,
                        null,
                        CONFIG,
                        true,
                        new PrintStream(bytes, true, StandardCharsets.UTF_8));

        // then
        assertThat(r.outcome()).isEqualTo(Outcome.PARTIAL);
        JsonNode json = new ObjectMapper().readTree(bytes.toString(StandardCharsets.UTF_8));
        assertThat(json.get("outcome").asText()).isEqualTo("PARTIAL");
        assertThat(json.get("passed").asInt()).isEqualTo(1);
        assertThat(json.get("total").asInt()).isEqualTo(2);
        assertThat(json.get("formatReward").asDouble()).isEqualTo(1.0);
        assertThat(json.get("codeReward").asDouble()).isEqualTo(0.5);
        assertThat(json.get("reward").asDouble()).isEqualTo(1.5);
        assertThat(json.get("durationMs").asLong()).isPositive();
        assertThat(json.get("tests")).hasSize(2);
        assertThat(json.get("tests").get(1).get("outcome").asText()).isEqualTo("FAILED");
    }

    @Test
    void shouldPrintAReadableReport() throws IOException {
        Path code = write("completion.txt", "```python\ndef inc(x)\n    return x + 1\n```\n");
        Path tests = write("tests.txt", "assert inc(1) == 2\n");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        ExecutionResult r =
                OneOffRunner.run(
                        code,
                        tests,
                        null,
                        CONFIG,
                        false,
                        new PrintStream(bytes, true, StandardCharsets.UTF_8));

        String text = bytes.toString(StandardCharsets.UTF_8);
        assertThat(r.outcome()).isEqualTo(Outcome.SYNTAX_ERROR);
        assertThat(text)
                .contains("outcome:  SYNTAX_ERROR")
                .contains("format 0.500")
                .contains("SyntaxError");
    }

    @Test
    void shouldRunSetupCodeAndListEachTest() throws IOException {
        Path code =
                write("completion.txt", "```python\ndef area(r):\n    return PI * r * r\n```\n");
        Path tests = write("tests.txt", "assert area(1) == PI\r\nassert area(2) == 4 * PI\r\n");
        Path setup = write("setup.py", "PI = 3\n");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        ExecutionResult r =
                OneOffRunner.run(
                        code,
                        tests,
                        setup,
                        CONFIG,
                        false,
                        new PrintStream(bytes, true, StandardCharsets.UTF_8));

        assertThat(r.outcome())
                .as(bytes.toString(StandardCharsets.UTF_8))
                .isEqualTo(Outcome.PASSED);
        assertThat(bytes.toString(StandardCharsets.UTF_8))
                .contains("test 0")
                .contains("assert area(2) == 4 * PI")
                .contains("(2/2 tests passed)");
    }

    @Test
    void shouldNameTheMissingFileAndRejectAnEmptyTestsFile() throws IOException {
        Path code = write("completion.txt", "```python\nx = 1\n```\n");
        Path empty = write("tests.txt", "\n# nothing\n");
        PrintStream out =
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

        assertThatThrownBy(
                        () ->
                                OneOffRunner.run(
                                        dir.resolve("nope.txt"), empty, null, CONFIG, true, out))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("nope.txt");
        assertThatThrownBy(() -> OneOffRunner.run(code, empty, null, CONFIG, true, out))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tests.txt");
    }
}

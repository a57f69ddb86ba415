package dev.diffustream.policy.tasks.acecode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diffustream.policy.tasks.TaskDataException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AceCodeReaderTest {

    private static final String GOOD =
            "{\"id\": \"x\", \"question\": \"q\", \"test_cases\": [\"assert f()\"], \"inferences\":"
                    + " [{\"completion\": \"def f():\\n    return 1\", \"model_name\": \"m\","
                    + " \"pass_rate\": 1}]}";

    @TempDir Path dir;

    private Path write(String name, String... lines) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, String.join("\n", lines) + "\n");
        return file;
    }

    @Test
    void shouldReadEveryFixtureRowWithItsFields() {
        List<AceCodeRow> rows = Fixture.rows();
        assertThat(rows).extracting(AceCodeRow::id).isEqualTo(Fixture.IDS);
        AceCodeRow a = rows.get(0);
        assertThat(a.source()).isEqualTo("oss");
        assertThat(a.testCases())
                .containsExactly("assert add(1, 2) == 3", "assert add(-1, 1) == 0");
        assertThat(a.inferences())
                .extracting(AceCodeRow.Inference::modelName)
                .containsExactly("qwen_coder_2.5", "llama3_instruct", "gpt-4o");
        assertThat(a.line()).isEqualTo(1);
        assertThat(rows.get(7).source()).isEmpty();
        assertThat(rows.get(7).line()).isEqualTo(8);
        assertThat(rows).noneMatch(AceCodeRow::augmented);
    }

    @Test
    void shouldNameFileAndLineForMalformedJson() throws IOException {
        Path file = write("bad.jsonl", GOOD, "", "{\"id\": \"y\", \"question\": ");
        assertThatThrownBy(() -> AceCodeReader.read(file))
                .isInstanceOf(TaskDataException.class)
                .hasMessageStartingWith(file + ":3: malformed JSON")
                .satisfies(e -> assertThat(((TaskDataException) e).line()).isEqualTo(3));
    }

    @Test
    void shouldNameTheMissingOrMistypedField() throws IOException {
        Path missing = write("m.jsonl", GOOD.replace("\"question\": \"q\", ", ""));
        assertThatThrownBy(() -> AceCodeReader.read(missing))
                .hasMessage(missing + ":1: missing field 'question'");
        Path mistyped =
                write(
                        "t.jsonl",
                        GOOD,
                        GOOD.replace("\"x\"", "\"z\"")
                                .replace("\"pass_rate\": 1", "\"pass_rate\": \"1\""));
        assertThatThrownBy(() -> AceCodeReader.read(mistyped))
                .hasMessage(
                        mistyped
                                + ":2: field 'inferences[0].pass_rate' must be a number, was STRING");
        Path noModel = write("n.jsonl", GOOD.replace("\"model_name\": \"m\", ", ""));
        assertThatThrownBy(() -> AceCodeReader.read(noModel))
                .hasMessage(noModel + ":1: missing field 'inferences[0].model_name'");
        Path badTests = write("b.jsonl", GOOD.replace("[\"assert f()\"]", "[\"assert f()\", 3]"));
        assertThatThrownBy(() -> AceCodeReader.read(badTests))
                .hasMessage(badTests + ":1: field 'test_cases[1]' must be a string, was NUMBER");
        Path notObject = write("o.jsonl", "[1, 2]");
        assertThatThrownBy(() -> AceCodeReader.read(notObject))
                .hasMessage(notObject + ":1: expected a JSON object, got ARRAY");
    }

    @Test
    void shouldRejectEmptyTestCasesAndDuplicateIds() throws IOException {
        Path empty = write("e.jsonl", GOOD.replace("[\"assert f()\"]", "[]"));
        assertThatThrownBy(() -> AceCodeReader.read(empty))
                .hasMessage(empty + ":1: field 'test_cases' is empty");
        Path dup = write("d.jsonl", GOOD, GOOD);
        assertThatThrownBy(() -> AceCodeReader.read(dup))
                .hasMessage(dup + ":2: duplicate id 'x' (first at line 1)");
    }

    @Test
    void shouldFailClearlyOnAMissingFile() {
        Path nowhere = dir.resolve("nowhere.jsonl");
        assertThatThrownBy(() -> AceCodeReader.read(nowhere))
                .isInstanceOf(TaskDataException.class)
                .hasMessage(nowhere + ": file not found");
    }

    @Test
    void shouldReadGzipByContentNotByName() throws IOException {
        Path file = dir.resolve("rows.data");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write((GOOD + "\n").getBytes(StandardCharsets.UTF_8));
        }
        List<AceCodeRow> rows = AceCodeReader.read(file);
        assertThat(rows).singleElement().satisfies(r -> assertThat(r.id()).isEqualTo("x"));
        assertThat(rows.get(0).inferences().get(0).passRate()).isEqualTo(1.0);
    }
}

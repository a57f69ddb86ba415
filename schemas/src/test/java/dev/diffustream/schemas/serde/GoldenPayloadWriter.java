package dev.diffustream.schemas.serde;

import dev.diffustream.schemas.testing.Samples;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Writes the golden payloads under {@code src/test/resources/golden}: for every event type, the
 * Avro binary of {@link Samples#oneOfEach()}, the writer schema and the record as JSON. Run once
 * per schema version ({@code v1}, {@code v2}, ...) and commit the files; {@link GoldenPayloadTest}
 * checks that every committed version still decodes. Never overwrite an existing version.
 */
public final class GoldenPayloadWriter {
    private GoldenPayloadWriter() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "src/test/resources/golden");
        String version = args.length > 1 ? args[1] : "v1";
        Files.createDirectories(dir);
        for (SpecificRecord record : Samples.oneOfEach()) {
            String name = record.getSchema().getName();
            Path bin = dir.resolve(name + "." + version + ".bin");
            if (Files.exists(bin)) {
                throw new IllegalStateException(bin + " exists: golden payloads are immutable");
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, encoder);
            encoder.flush();
            Files.write(bin, out.toByteArray());
            Files.writeString(
                    dir.resolve(name + "." + version + ".avsc"),
                    record.getSchema().toString(true),
                    StandardCharsets.UTF_8);
            Files.writeString(
                    dir.resolve(name + "." + version + ".json"),
                    AvroJson.toJson(record) + "\n",
                    StandardCharsets.UTF_8);
        }
    }
}

package dev.diffustream.schemas.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.avro.AvroTypeException;
import org.apache.avro.Schema;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonDecoder;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Records to and from Avro's JSON encoding (the form {@code topics produce/consume} speak: unions
 * are written as {@code {"string": "x"}} or {@code null}).
 */
public final class AvroJson {
    private AvroJson() {}

    /** One-line JSON for a record. */
    public static String toJson(SpecificRecord record) {
        Schema schema = record.getSchema();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            JsonEncoder encoder = EncoderFactory.get().jsonEncoder(schema, out, false);
            new SpecificDatumWriter<SpecificRecord>(schema).write(record, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + schema.getName() + " as JSON", e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Parses one JSON document into a record of {@code type}.
     *
     * @throws IllegalArgumentException with the reason (malformed JSON, a missing or mistyped
     *     field: Avro names the field it expected)
     */
    public static <T extends SpecificRecord> T fromJson(Class<T> type, String json) {
        Schema schema = SpecificData.get().getSchema(type);
        try {
            JsonDecoder decoder = DecoderFactory.get().jsonDecoder(schema, json);
            T record = new SpecificDatumReader<T>(schema).read(null, decoder);
            return record;
        } catch (AvroTypeException e) {
            throw new IllegalArgumentException(
                    "does not fit schema " + schema.getName() + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(
                    "not a valid " + schema.getName() + " JSON record: " + e.getMessage(), e);
        }
    }
}

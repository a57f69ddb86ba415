package dev.diffustream.policy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir Path tmp;

    @Test
    void shouldRoundTripNamedArraysOfSeveralDtypesWhenWrittenAndRead() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            // given
            NDArray f32 =
                    named(
                            m.create(new float[] {1.5f, -2f, 3.25f, 0f, -0f, 7f}, new Shape(2, 3)),
                            "adam.m");
            NDArray i64 = named(m.create(new long[] {42L}), "step");
            NDArray f16 =
                    named(
                            m.create(new float[] {0.5f, 1e-3f}).toType(DataType.FLOAT16, false),
                            "half");
            Path file = tmp.resolve("state.safetensors");

            // when
            Safetensors.write(file, new NDList(f32, i64, f16), Map.of("step", "42"));
            NDList back = Safetensors.read(file, m);

            // then
            assertThat(back.get("adam.m").contentEquals(f32)).isTrue();
            assertThat(back.get("step").contentEquals(i64)).isTrue();
            assertThat(back.get("half").contentEquals(f16)).isTrue();
            assertThat(back.get("adam.m").toByteBuffer()).isEqualTo(f32.toByteBuffer()); // -0 kept
            assertThat(Safetensors.readMetadata(file))
                    .containsEntry("format", "pt")
                    .containsEntry("step", "42");
        }
    }

    @Test
    void shouldWriteAHuggingFaceCompatibleHeaderWhenWritten() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            // given
            Path file = tmp.resolve("a.safetensors");
            Safetensors.write(file, new NDList(named(m.create(new float[] {1, 2, 3}), "w")), null);

            // when
            byte[] bytes = Files.readAllBytes(file);
            long headerLen = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            String header = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);

            // then: padded to 8 bytes, __metadata__ format pt, offsets relative to the data start
            assertThat(headerLen % 8).isZero();
            assertThat(header.trim())
                    .isEqualTo(
                            "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\","
                                    + "\"shape\":[3],\"data_offsets\":[0,12]}}");
            assertThat(bytes.length).isEqualTo(8 + headerLen + 12);
            assertThat(
                            ByteBuffer.wrap(bytes, (int) (8 + headerLen), 4)
                                    .order(ByteOrder.LITTLE_ENDIAN)
                                    .getFloat())
                    .isEqualTo(1f);
        }
    }

    @Test
    void shouldBeReadableByDjlAndReadDjlFilesWhenExchanged() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            // given
            NDArray a =
                    named(m.create(new float[] {1, 2, 3, 4}, new Shape(2, 2)), "model.a.weight");
            NDArray b = named(m.create(new int[] {7, 8}), "b");
            Path ours = tmp.resolve("ours.safetensors");
            Safetensors.write(ours, new NDList(a, b), null);
            ByteArrayOutputStream djlBytes = new ByteArrayOutputStream();
            new NDList(a, b).encode(djlBytes, NDList.Encoding.SAFETENSORS);
            Path theirs = tmp.resolve("djl.safetensors");
            Files.write(theirs, djlBytes.toByteArray());

            // when
            NDList byDjl;
            try (InputStream in = Files.newInputStream(ours)) {
                byDjl = NDList.decode(m, in);
            }
            NDList byUs = Safetensors.read(theirs, m);

            // then
            assertThat(byDjl.get("model.a.weight").contentEquals(a)).isTrue();
            assertThat(byDjl.get("b").contentEquals(b)).isTrue();
            assertThat(byUs.get("model.a.weight").contentEquals(a)).isTrue();
            assertThat(byUs.get("b").contentEquals(b)).isTrue();
        }
    }

    @Test
    void shouldRoundBf16ToNearestEvenAndConvertBackExactlyWhenConverting() {
        // exact values survive
        assertThat(StDtype.fromBf16(StDtype.toBf16(1.5f))).isEqualTo(1.5f);
        assertThat(StDtype.fromBf16(StDtype.toBf16(-0.0f))).isEqualTo(-0.0f);
        // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: rounds to the even mantissa (1)
        assertThat(StDtype.toBf16(1f + 0x1p-8f)).isEqualTo((short) 0x3f80);
        // 1 + 3·2^-8 is a tie between 1 + 2^-7 and 1 + 2^-6: rounds to even (1 + 2^-6)
        assertThat(StDtype.toBf16(1f + 3 * 0x1p-8f)).isEqualTo((short) 0x3f82);
        // just above the tie rounds up
        assertThat(StDtype.toBf16(Math.nextUp(1f + 0x1p-8f))).isEqualTo((short) 0x3f81);
        assertThat(Float.isNaN(StDtype.fromBf16(StDtype.toBf16(Float.NaN)))).isTrue();
        assertThat(StDtype.fromBf16((short) 0xc040)).isEqualTo(-3f);
    }

    @Test
    void shouldReadLargeTensorsInChunksIdenticallyWhenChunkIsSmall() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            // given
            NDArray big = named(m.arange(0f, 1000f, 1f).reshape(100, 10), "big");
            Path file = tmp.resolve("big.safetensors");
            Safetensors.write(file, new NDList(big), null);

            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                // when: 3 rows (120 bytes) per chunk → 34 chunks, also converted to float16
                f.setChunkBytes(120);
                NDArray a = f.read("big", m, DataType.FLOAT32);
                NDArray h = f.read("big", m, DataType.FLOAT16);

                // then
                assertThat(a.contentEquals(big)).isTrue();
                assertThat(h.getDataType()).isEqualTo(DataType.FLOAT16);
                assertThat(h.toType(DataType.FLOAT32, false).contentEquals(big)).isTrue();
            }
        }
    }

    @Test
    void shouldNameFileAndTensorWhenHeaderIsCorrupt() throws IOException {
        // given: a tensor whose offsets run past the end of the file
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        Path file = tmp.resolve("bad.safetensors");
        Files.write(file, fileBytes(header, new byte[8]));

        // then
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("bad.safetensors")
                .hasMessageContaining("'w'")
                .hasMessageContaining("outside the data section");

        Path wrongSize = tmp.resolve("size.safetensors");
        Files.write(
                wrongSize,
                fileBytes(
                        "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
                        new byte[8]));
        assertThatThrownBy(() -> SafetensorsFile.open(wrongSize))
                .hasMessageContaining("8 bytes for shape [3] of F32");

        Path badDtype = tmp.resolve("dtype.safetensors");
        Files.write(
                badDtype,
                fileBytes(
                        "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                        new byte[1]));
        assertThatThrownBy(() -> SafetensorsFile.open(badDtype))
                .hasMessageContaining("unsupported safetensors dtype 'F8_E4M3'");

        Path truncated = tmp.resolve("short.safetensors");
        Files.write(truncated, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> SafetensorsFile.open(truncated))
                .hasMessageContaining("not a safetensors file");
    }

    @Test
    void shouldRejectUnnamedOrDuplicateArraysWhenWriting() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1});
            assertThatThrownBy(() -> Safetensors.write(tmp.resolve("x"), new NDList(x), null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("has no name");
            NDArray a = named(m.create(new float[] {1}), "a");
            NDArray b = named(m.create(new float[] {2}), "a");
            assertThatThrownBy(() -> Safetensors.write(tmp.resolve("y"), new NDList(a, b), null))
                    .hasMessageContaining("duplicate tensor name 'a'");
        }
    }

    static byte[] fileBytes(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b =
                ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    private static NDArray named(NDArray a, String name) {
        a.setName(name);
        return a;
    }
}

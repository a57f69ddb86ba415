package dev.diffustream.policy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.diffustream.policy.model.PolicyModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightsDigestTest {

    @TempDir Path tmp;

    @Test
    void shouldFollowTheDocumentedDefinitionWhenComputedFromFiles() throws Exception {
        // given: a one-file "checkpoint" with two tensors, written in reverse name order
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray b = m.create(new float[] {1f, -2f});
            b.setName("b");
            NDArray a =
                    m.create(
                            new float[] {0.5f, 0.25f, 3f, 4f},
                            new ai.djl.ndarray.types.Shape(2, 2));
            a.setName("a");
            Files.createDirectories(tmp.resolve("d"));
            Safetensors.write(tmp.resolve("d/model.safetensors"), new NDList(b, a), Map.of());

            // when
            String digest = HfCheckpoint.sha256(tmp.resolve("d"));

            // then: sha256 over the records of a then b
            MessageDigest outer = MessageDigest.getInstance("SHA-256");
            outer.update(record("a", "F32", "[2,2]", floats(0.5f, 0.25f, 3f, 4f)));
            outer.update(record("b", "F32", "[2]", floats(1f, -2f)));
            assertThat(digest).isEqualTo(HexFormat.of().formatHex(outer.digest())).hasSize(64);
        }
    }

    @Test
    void shouldChangeWhenOneWeightMovesByOneUlp() throws Exception {
        try (PolicyModel model = PolicyModel.create(HfCheckpointTest.tiny())) {
            String before = WeightsDigest.of(model);
            NDArray w = model.parameters().get("model.layers.1.mlp.gate_up_proj.weight").getArray();
            float[] values = w.toFloatArray();
            values[123] = Math.nextUp(values[123]);

            // when
            w.set(values);

            // then
            assertThat(WeightsDigest.of(model)).isNotEqualTo(before);
        }
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    private static byte[] record(String name, String dtype, String shape, byte[] data)
            throws Exception {
        byte[] sha = MessageDigest.getInstance("SHA-256").digest(data);
        byte[] head = (name + "\0" + dtype + "\0" + shape + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[head.length + sha.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(sha, 0, out, head.length, sha.length);
        return out;
    }
}

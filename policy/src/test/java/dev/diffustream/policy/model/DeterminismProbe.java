package dev.diffustream.policy.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Prints one sha256 over the logits and every gradient of a fixed forward/backward of the default
 * tiny model, so that separate JVMs can be compared ({@link CrossProcessDeterminismIT}).
 */
public final class DeterminismProbe {

    private DeterminismProbe() {}

    public static void main(String[] args) throws Exception {
        System.out.println("PROBE " + run());
    }

    static String run() throws Exception {
        ModelConfig config = ModelConfig.defaults();
        int[][] tokens = new int[6][96];
        int[][] mask = new int[6][96];
        for (int b = 0; b < tokens.length; b++) {
            for (int t = 0; t < tokens[b].length; t++) {
                tokens[b][t] = (b * 31 + t * 17) % config.vocabSize();
                mask[b][t] = t >= 2 * b ? 1 : 0;
            }
        }
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (PolicyModel model = PolicyModel.create(config);
                NDManager m = NDManager.newBaseManager()) {
            model.zeroGradients();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.logits(m.create(tokens), m.create(mask));
                NDArray loss = logits.logSoftmax(2).get(":, :, 7").mean().neg();
                gc.backward(loss);
                sha.update(logits.stopGradient().toByteBuffer());
            }
            for (Parameter p : model.parameters().values()) {
                try (NDArray g = p.getArray().getGradient()) {
                    sha.update(g.toByteBuffer());
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Loads the PyTorch engine once, so DJL extracts its native libraries (about 450 MB) into {@code
 * DJL_CACHE_DIR} while the image is built instead of at every container's first start. Run by the
 * Dockerfile as a single-file program: {@code java -cp "lib/*" WarmUpNatives.java}.
 */
public class WarmUpNatives {
    public static void main(String[] args) {
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager manager = engine.newBaseManager()) {
            float sum = manager.ones(new Shape(2, 3)).sum().getFloat();
            if (sum != 6f) {
                throw new IllegalStateException("PyTorch computed " + sum + " for 6");
            }
            System.out.println(
                    "PyTorch " + engine.getVersion() + " natives ready in "
                            + System.getenv("DJL_CACHE_DIR"));
        }
    }
}

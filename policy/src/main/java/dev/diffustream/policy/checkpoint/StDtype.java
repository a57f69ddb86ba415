package dev.diffustream.policy.checkpoint;

import ai.djl.ndarray.types.DataType;

/**
 * The safetensors dtypes we read and write, with their DJL counterpart. {@link #BF16} has none: DJL
 * 0.36's PyTorch JNI has no bfloat16 tensors, so bf16 data is converted to float32 in Java on read
 * (exactly: a bf16 value is the top half of a float32) and rounded to nearest-even on write.
 */
public enum StDtype {
    F64(8, DataType.FLOAT64),
    F32(4, DataType.FLOAT32),
    F16(2, DataType.FLOAT16),
    BF16(2, null),
    I64(8, DataType.INT64),
    I32(4, DataType.INT32),
    I8(1, DataType.INT8),
    U8(1, DataType.UINT8),
    BOOL(1, DataType.BOOLEAN);

    private final int bytes;
    private final DataType djl;

    StDtype(int bytes, DataType djl) {
        this.bytes = bytes;
        this.djl = djl;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The DJL type holding this data after a read (float32 for bf16). */
    public DataType readType() {
        return djl == null ? DataType.FLOAT32 : djl;
    }

    /** Parses a safetensors dtype string. */
    public static StDtype parse(String text, String where) {
        try {
            return valueOf(text);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException(
                    where + ": unsupported safetensors dtype '" + text + "'", e);
        }
    }

    /** The safetensors dtype of a DJL type. */
    public static StDtype of(DataType type) {
        for (StDtype d : values()) {
            if (d.djl == type) {
                return d;
            }
        }
        throw new IllegalArgumentException("no safetensors dtype for DJL type " + type);
    }

    /** The safetensors dtype of a Hugging Face {@code torch_dtype} name. */
    public static StDtype ofTorchName(String torchDtype) {
        switch (torchDtype) {
            case "float32":
                return F32;
            case "float16":
                return F16;
            case "bfloat16":
                return BF16;
            default:
                throw new IllegalArgumentException(
                        "torch dtype must be float32, float16 or bfloat16, got '"
                                + torchDtype
                                + "'");
        }
    }

    /** The Hugging Face {@code torch_dtype} name of a floating dtype. */
    public String torchName() {
        switch (this) {
            case F32:
                return "float32";
            case F16:
                return "float16";
            case BF16:
                return "bfloat16";
            default:
                throw new IllegalArgumentException(this + " is not a weight dtype");
        }
    }

    /** float32 → bfloat16 bits, round to nearest even (NaN stays a quiet NaN). */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7fff + lsb) >>> 16);
    }

    /** bfloat16 bits → float32 (exact). */
    public static float fromBf16(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }
}

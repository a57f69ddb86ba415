package dev.diffustream.policy.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * How the Dream sampler chooses which masked positions to reveal at each step (spec D.1, D.2). The
 * YAML and event spelling is the lower-case Dream name ({@link #wireName()}).
 */
public enum RemaskingAlgorithm {
    /** Every masked position is revealed independently with probability 1 − s/t. */
    @JsonProperty("origin")
    ORIGIN,
    /** Top-n positions by the probability of the sampled token. */
    @JsonProperty("maskgit_plus")
    MASKGIT_PLUS,
    /** Top-n positions by the margin between the two most likely tokens. */
    @JsonProperty("topk_margin")
    TOPK_MARGIN,
    /** Top-n positions by negative entropy (the DiffuCoder rollout setting). */
    @JsonProperty("entropy")
    ENTROPY;

    /**
     * The Dream spelling: {@code origin}, {@code maskgit_plus}, {@code topk_margin}, {@code
     * entropy}.
     */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses the Dream spelling (case-insensitive).
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static RemaskingAlgorithm fromWireName(String name) {
        for (RemaskingAlgorithm a : values()) {
            if (a.wireName().equalsIgnoreCase(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException(
                "unknown sampler alg '"
                        + name
                        + "', expected one of origin, maskgit_plus, topk_margin, entropy");
    }
}

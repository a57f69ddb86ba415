package dev.diffustream.producers.actor;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The actors (recipe section {@code actor}). */
public record ActorConfig(
        @JsonPropertyDescription(
                        "Staleness bound: the actor stops taking tasks while its policy is more"
                                + " than this many versions behind the newest checkpoint, until it"
                                + " has loaded a newer one.")
                int maxPolicyLag,
        @JsonPropertyDescription(
                        "Synchronous mode (the release's on-policy behaviour): before each task,"
                                + " wait for every committed checkpoint and load the newest.")
                boolean sync,
        @JsonPropertyDescription(
                        "Attempts to load a checkpoint whose files are missing or do not match"
                                + " their sha256 (a partial copy) before giving up.")
                int loadAttempts,
        @JsonPropertyDescription("Backoff between checkpoint load attempts, ms.")
                long loadBackoffMs,
        @JsonPropertyDescription(
                        "Consumer max.poll.interval.ms: must exceed the time to sample one group.")
                int maxPollIntervalMs) {

    public ActorConfig {
        if (maxPolicyLag < 0) {
            throw new IllegalArgumentException(
                    "actor.maxPolicyLag must be >= 0, got " + maxPolicyLag);
        }
        if (loadAttempts < 1) {
            throw new IllegalArgumentException(
                    "actor.loadAttempts must be >= 1, got " + loadAttempts);
        }
        if (loadBackoffMs < 0) {
            throw new IllegalArgumentException(
                    "actor.loadBackoffMs must be >= 0, got " + loadBackoffMs);
        }
        if (maxPollIntervalMs < 10_000) {
            throw new IllegalArgumentException(
                    "actor.maxPollIntervalMs must be >= 10000, got " + maxPollIntervalMs);
        }
    }

    public static ActorConfig defaults() {
        return new ActorConfig(2, false, 5, 500, 600_000);
    }
}

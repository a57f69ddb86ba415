package dev.diffustream.sandbox;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.diffustream.schemas.config.RewardWeights;

/**
 * Configuration of the sandbox engine (recipe section {@code sandbox}): every limit, the reward
 * weights and the anti-hacking options. Limits apply per test process unless stated otherwise; see
 * {@code sandbox/README.md} for what each one guards against.
 */
public record SandboxConfig(
        @JsonPropertyDescription(
                        "Concurrent sandboxes (engine slots, one unprivileged uid each); default:"
                                + " the number of cores.")
                int workers,
        @JsonPropertyDescription(
                        "Wall-clock limit of one test (solution + that test in a fresh"
                                + " interpreter), in seconds; spec B.2 uses 5.")
                double testTimeoutSeconds,
        @JsonPropertyDescription(
                        "Wall-clock budget of one whole execution (syntax check and all tests),"
                                + " in seconds; tests not started in time are SKIPPED.")
                double executionTimeoutSeconds,
        @JsonPropertyDescription("CPU-time limit of one test's processes (RLIMIT_CPU), in seconds.")
                int cpuTimeSeconds,
        @JsonPropertyDescription("Address-space limit of each test process (RLIMIT_AS), in MiB.")
                int memoryMb,
        @JsonPropertyDescription(
                        "Maximum processes and threads of a slot's uid (RLIMIT_NPROC; effective"
                                + " because tests run as an unprivileged uid).")
                int maxProcesses,
        @JsonPropertyDescription("Maximum open files of a test process (RLIMIT_NOFILE).")
                int maxOpenFiles,
        @JsonPropertyDescription("Maximum size of a file a test writes (RLIMIT_FSIZE), in MiB.")
                int maxFileSizeMb,
        @JsonPropertyDescription("Size of a sandbox's private writable /tmp (tmpfs), in MiB.")
                int tmpSizeMb,
        @JsonPropertyDescription(
                        "Bytes of a test's stdout+stderr kept for diagnostics (the rest is read"
                                + " and discarded; output never decides a result).")
                int maxOutputBytes,
        @JsonPropertyDescription(
                        "Reward weights: total = code * codeReward + format * formatReward"
                                + " (spec B.2 step 7).")
                RewardWeights weights,
        @JsonPropertyDescription(
                        "Strict equality: comparisons and assert conditions in tests check types"
                                + " and do not trust __eq__/__bool__ of the candidate's objects.")
                boolean strictEquality,
        @JsonPropertyDescription(
                        "Release semantics (spec B.2 steps 3-4): any timed-out test makes the"
                                + " code reward 0; false counts it as one failed test.")
                boolean timeoutZeroesCodeReward,
        @JsonPropertyDescription(
                        "Attempts for an execution that hits a sandbox fault before it is"
                                + " reported as SANDBOX_ERROR.")
                int maxAttempts,
        @JsonPropertyDescription(
                        "Backoff before the first retry of a sandbox fault, in milliseconds;"
                                + " doubles on every further retry.")
                long retryBackoffMs,
        @JsonPropertyDescription(
                        "Allow running WITHOUT isolation when bubblewrap is missing (unsafe; a"
                                + " warning is logged on every start).")
                boolean allowUnisolated,
        @JsonPropertyDescription(
                        "First unprivileged uid/gid for test processes; slot i uses uidBase + i"
                                + " (engines on one host need disjoint ranges).")
                int uidBase,
        @JsonPropertyDescription("Python interpreter used inside the sandbox.") String python,
        @JsonPropertyDescription(
                        "bubblewrap executable: an absolute path, or a name looked up on PATH.")
                String bwrap,
        @JsonPropertyDescription(
                        "Seccomp filter on test processes (needs python3-seccomp): no new"
                                + " executable mappings, no ptrace, mount, bpf, SysV IPC, ...")
                boolean seccomp,
        @JsonPropertyDescription(
                        "Launch each slot's next sandbox ahead of demand (each is still used"
                                + " once).")
                boolean prelaunch) {

    public SandboxConfig {
        if (workers < 1 || workers > 256) {
            throw new IllegalArgumentException(
                    "sandbox.workers must be in [1, 256], got " + workers);
        }
        if (!(testTimeoutSeconds > 0) || testTimeoutSeconds > 3600) {
            throw new IllegalArgumentException(
                    "sandbox.testTimeoutSeconds must be in (0, 3600], got " + testTimeoutSeconds);
        }
        if (!(executionTimeoutSeconds >= testTimeoutSeconds) || executionTimeoutSeconds > 86400) {
            throw new IllegalArgumentException(
                    "sandbox.executionTimeoutSeconds must be >= testTimeoutSeconds ("
                            + testTimeoutSeconds
                            + ") and <= 86400, got "
                            + executionTimeoutSeconds);
        }
        positive("cpuTimeSeconds", cpuTimeSeconds);
        if (memoryMb < 64) {
            throw new IllegalArgumentException(
                    "sandbox.memoryMb must be >= 64 (the interpreter alone needs ~30), got "
                            + memoryMb);
        }
        if (maxProcesses < 2) {
            throw new IllegalArgumentException(
                    "sandbox.maxProcesses must be >= 2, got " + maxProcesses);
        }
        if (maxOpenFiles < 16) {
            throw new IllegalArgumentException(
                    "sandbox.maxOpenFiles must be >= 16, got " + maxOpenFiles);
        }
        positive("maxFileSizeMb", maxFileSizeMb);
        positive("tmpSizeMb", tmpSizeMb);
        if (maxOutputBytes < 0) {
            throw new IllegalArgumentException(
                    "sandbox.maxOutputBytes must be >= 0, got " + maxOutputBytes);
        }
        if (weights == null) {
            throw new IllegalArgumentException("sandbox.weights must be set");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException(
                    "sandbox.maxAttempts must be >= 1, got " + maxAttempts);
        }
        if (retryBackoffMs < 0) {
            throw new IllegalArgumentException(
                    "sandbox.retryBackoffMs must be >= 0, got " + retryBackoffMs);
        }
        if (uidBase < 1000 || (long) uidBase + workers > 0x7fff_ffffL) {
            throw new IllegalArgumentException(
                    "sandbox.uidBase must be >= 1000 (an unprivileged uid) and leave room for"
                            + " every worker, got "
                            + uidBase);
        }
        if (python == null || python.isBlank()) {
            throw new IllegalArgumentException("sandbox.python must name an interpreter");
        }
        if (bwrap == null || bwrap.isBlank()) {
            throw new IllegalArgumentException("sandbox.bwrap must name the bwrap executable");
        }
    }

    private static void positive(String key, long value) {
        if (value < 1) {
            throw new IllegalArgumentException("sandbox." + key + " must be >= 1, got " + value);
        }
    }

    public static SandboxConfig defaults() {
        return new SandboxConfig(
                Runtime.getRuntime().availableProcessors(),
                5.0,
                30.0,
                6,
                512,
                32,
                64,
                16,
                64,
                4096,
                RewardWeights.defaults(),
                true,
                true,
                3,
                200,
                false,
                64000,
                "/usr/bin/python3",
                "bwrap",
                true,
                true);
    }

    /** A builder initialised with this configuration's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Copies a configuration with some values changed; {@link #build()} validates. */
    public static final class Builder {
        private int workers;
        private double testTimeoutSeconds;
        private double executionTimeoutSeconds;
        private int cpuTimeSeconds;
        private int memoryMb;
        private int maxProcesses;
        private int maxOpenFiles;
        private int maxFileSizeMb;
        private int tmpSizeMb;
        private int maxOutputBytes;
        private RewardWeights weights;
        private boolean strictEquality;
        private boolean timeoutZeroesCodeReward;
        private int maxAttempts;
        private long retryBackoffMs;
        private boolean allowUnisolated;
        private int uidBase;
        private String python;
        private String bwrap;
        private boolean seccomp;
        private boolean prelaunch;

        private Builder(SandboxConfig c) {
            workers = c.workers;
            testTimeoutSeconds = c.testTimeoutSeconds;
            executionTimeoutSeconds = c.executionTimeoutSeconds;
            cpuTimeSeconds = c.cpuTimeSeconds;
            memoryMb = c.memoryMb;
            maxProcesses = c.maxProcesses;
            maxOpenFiles = c.maxOpenFiles;
            maxFileSizeMb = c.maxFileSizeMb;
            tmpSizeMb = c.tmpSizeMb;
            maxOutputBytes = c.maxOutputBytes;
            weights = c.weights;
            strictEquality = c.strictEquality;
            timeoutZeroesCodeReward = c.timeoutZeroesCodeReward;
            maxAttempts = c.maxAttempts;
            retryBackoffMs = c.retryBackoffMs;
            allowUnisolated = c.allowUnisolated;
            uidBase = c.uidBase;
            python = c.python;
            bwrap = c.bwrap;
            seccomp = c.seccomp;
            prelaunch = c.prelaunch;
        }

        public Builder workers(int value) {
            workers = value;
            return this;
        }

        public Builder testTimeoutSeconds(double value) {
            testTimeoutSeconds = value;
            return this;
        }

        public Builder executionTimeoutSeconds(double value) {
            executionTimeoutSeconds = value;
            return this;
        }

        public Builder cpuTimeSeconds(int value) {
            cpuTimeSeconds = value;
            return this;
        }

        public Builder memoryMb(int value) {
            memoryMb = value;
            return this;
        }

        public Builder maxProcesses(int value) {
            maxProcesses = value;
            return this;
        }

        public Builder maxOpenFiles(int value) {
            maxOpenFiles = value;
            return this;
        }

        public Builder maxFileSizeMb(int value) {
            maxFileSizeMb = value;
            return this;
        }

        public Builder tmpSizeMb(int value) {
            tmpSizeMb = value;
            return this;
        }

        public Builder maxOutputBytes(int value) {
            maxOutputBytes = value;
            return this;
        }

        public Builder weights(RewardWeights value) {
            weights = value;
            return this;
        }

        public Builder strictEquality(boolean value) {
            strictEquality = value;
            return this;
        }

        public Builder timeoutZeroesCodeReward(boolean value) {
            timeoutZeroesCodeReward = value;
            return this;
        }

        public Builder maxAttempts(int value) {
            maxAttempts = value;
            return this;
        }

        public Builder retryBackoffMs(long value) {
            retryBackoffMs = value;
            return this;
        }

        public Builder allowUnisolated(boolean value) {
            allowUnisolated = value;
            return this;
        }

        public Builder uidBase(int value) {
            uidBase = value;
            return this;
        }

        public Builder python(String value) {
            python = value;
            return this;
        }

        public Builder bwrap(String value) {
            bwrap = value;
            return this;
        }

        public Builder seccomp(boolean value) {
            seccomp = value;
            return this;
        }

        public Builder prelaunch(boolean value) {
            prelaunch = value;
            return this;
        }

        public SandboxConfig build() {
            return new SandboxConfig(
                    workers,
                    testTimeoutSeconds,
                    executionTimeoutSeconds,
                    cpuTimeSeconds,
                    memoryMb,
                    maxProcesses,
                    maxOpenFiles,
                    maxFileSizeMb,
                    tmpSizeMb,
                    maxOutputBytes,
                    weights,
                    strictEquality,
                    timeoutZeroesCodeReward,
                    maxAttempts,
                    retryBackoffMs,
                    allowUnisolated,
                    uidBase,
                    python,
                    bwrap,
                    seccomp,
                    prelaunch);
        }
    }
}

package dev.diffustream.learner.eval;

import java.util.List;

/**
 * Executes completions against their tests (the sandbox engine, wired by the command line; the
 * learner does not depend on the sandbox module).
 */
@FunctionalInterface
public interface CompletionScorer {

    /** One completion to execute. */
    record Request(String completionText, List<String> tests, String setupCode) {}

    /**
     * The result of one execution.
     *
     * @param formatReward spec B.1 format reward (0, 0.5 or 1)
     * @param codeReward pass rate (0 unless the format is valid)
     * @param outcome typed outcome name (PASSED, FAILED, SANDBOX_ERROR, ...)
     */
    record Score(double formatReward, double codeReward, String outcome) {
        /** Every test passed. */
        public boolean solved() {
            return codeReward >= 1.0 - 1e-9;
        }
    }

    /** Scores the requests (in any order internally; results in request order). */
    List<Score> score(List<Request> requests);
}

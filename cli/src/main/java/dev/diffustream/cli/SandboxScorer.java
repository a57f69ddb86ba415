package dev.diffustream.cli;

import dev.diffustream.learner.eval.CompletionScorer;
import dev.diffustream.sandbox.ExecutionRequest;
import dev.diffustream.sandbox.ExecutionResult;
import dev.diffustream.sandbox.SandboxEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Scores completions for evaluation with the sandbox engine, one request per engine slot. */
final class SandboxScorer implements CompletionScorer, AutoCloseable {

    private final SandboxEngine engine;
    private final ExecutorService pool;

    SandboxScorer(SandboxEngine engine) {
        this.engine = engine;
        this.pool =
                Executors.newFixedThreadPool(
                        engine.workers(),
                        r -> {
                            Thread t = new Thread(r, "eval-scorer");
                            t.setDaemon(true);
                            return t;
                        });
    }

    @Override
    public List<Score> score(List<Request> requests) {
        List<Future<ExecutionResult>> futures = new ArrayList<>(requests.size());
        for (Request q : requests) {
            futures.add(
                    pool.submit(
                            () ->
                                    engine.execute(
                                            new ExecutionRequest(
                                                    q.completionText(),
                                                    q.tests(),
                                                    q.setupCode()))));
        }
        List<Score> out = new ArrayList<>(requests.size());
        for (Future<ExecutionResult> f : futures) {
            try {
                ExecutionResult r = f.get();
                double format = Double.isNaN(r.formatReward()) ? 0 : r.formatReward();
                double code = Double.isNaN(r.codeReward()) ? 0 : r.codeReward();
                out.add(new Score(format, code, r.outcome().name()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while scoring", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("sandbox failed while scoring: " + e.getCause(), e);
            }
        }
        return out;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}

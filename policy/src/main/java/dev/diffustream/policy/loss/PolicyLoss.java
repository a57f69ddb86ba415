package dev.diffustream.policy.loss;

import ai.djl.ndarray.NDArray;

/**
 * A policy loss ready for {@code GradientCollector.backward} and its detached statistics.
 *
 * @param loss scalar, differentiable w.r.t. the current log-prob estimates
 * @param stats values for metrics
 */
public record PolicyLoss(NDArray loss, PolicyLossStats stats) {}

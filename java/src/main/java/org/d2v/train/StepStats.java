package org.d2v.train;

/**
 * What one training step reports. regression and cls are the two loss terms (spec §7);
 * targetStd and predStd are the collapse-guard statistics (spec §7.3); gradNorm is the global
 * gradient norm before clipping.
 */
public record StepStats(double loss, double regression, double cls, double targetStd, double predStd,
                        double gradNorm, long samples, long tokens) {}

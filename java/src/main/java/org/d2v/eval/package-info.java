/**
 * Downstream evaluation on fixed feature vectors: {@link org.d2v.eval.LinearProbe} (L2-regularised
 * multinomial logistic regression, L-BFGS, deterministic), {@link org.d2v.eval.NearestNeighbor},
 * raw-feature extractors ({@link org.d2v.eval.SpectralFeatures}, {@link org.d2v.eval.BagOfWords})
 * and {@link org.d2v.eval.Floors}, the raw-feature baselines of {@code d2v data floors}.
 */
package org.d2v.eval;

/**
 * Downstream evaluation: labeled examples of every modality as model batches
 * ({@link org.d2v.eval.LabeledSet}: {@link org.d2v.eval.ImageSet}, {@link org.d2v.eval.SpeechSet},
 * {@link org.d2v.eval.TextSet}, grouped by exact length instead of padded), probe tasks with their
 * raw-feature floors ({@link org.d2v.eval.ProbeTask}, {@link org.d2v.eval.RawFeatures}),
 * {@link org.d2v.eval.LinearProbe} (L2-regularised multinomial logistic regression, L-BFGS,
 * deterministic), {@link org.d2v.eval.NearestNeighbor}, raw-feature extractors
 * ({@link org.d2v.eval.SpectralFeatures}, {@link org.d2v.eval.BagOfWords}) and
 * {@link org.d2v.eval.Floors}, the raw-feature baselines of {@code d2v data floors}.
 */
package org.d2v.eval;

/**
 * What a pretraining run learns, measured outside the training step: statistics of the teacher's
 * target layers, the spread of the decoder's predictions, the effective rank of pooled features,
 * the teacher–student distance, with warnings when targets or features collapse or drift
 * (docs/evaluation.md, "Diagnostics"). Every measurement is a separate evaluation pass on fixed
 * held-out inputs; nothing here changes a model.
 */
package org.d2v.diagnostics;

/**
 * The main job ({@code make demo} = {@code d2v data install --sets fashion-mnist} + {@code d2v demo}),
 * downstream evaluation ({@code d2v probe}, {@code d2v finetune}) and the small study
 * ({@code d2v demo --study}).
 *
 * <ul>
 *   <li>{@link org.d2v.demo.DemoRun}: times a few pretraining steps on every available backend,
 *       turns the wall-clock budget into a step count on the fastest, probes the model at its
 *       random initialisation, pretrains in equal parts (the train helper's Pretrainer, resumed
 *       from its own checkpoint after each quick probe), then probes the pretrained model and raw
 *       pixels on the same images.</li>
 *   <li>{@link org.d2v.demo.Probe} / {@link org.d2v.demo.Features}: the linear probe (data's
 *       L-BFGS logistic regression, L2 chosen on held-out training images) on frozen encoder
 *       features extracted in batches (final mean pool, CLS and each block's pooled FFN output).</li>
 *   <li>{@link org.d2v.demo.Report}, {@link org.d2v.demo.Charts}, {@link org.d2v.demo.MaskFigure}:
 *       report.md, results.json and headless java.awt PNGs.</li>
 *   <li>{@link org.d2v.demo.ImageClassifier} / {@link org.d2v.demo.Finetune}: spec §10's
 *       classifier (encoder → mean pool → LayerNorm → Linear) loaded by parameter name from a
 *       checkpoint's student tensors, trained end to end.</li>
 *   <li>{@link org.d2v.demo.DemoPresets}: {@code image-demo}, smaller than {@code image-tiny}
 *       (patch 7, D 96) so that minutes of a shared CPU give a measurable effect.</li>
 * </ul>
 */
package org.d2v.demo;

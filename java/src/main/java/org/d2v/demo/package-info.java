/**
 * The main job ({@code make demo} = {@code d2v data install --sets fashion-mnist} + {@code d2v demo}),
 * the same pipeline for speech and text ({@code d2v demo --modality audio|text}), downstream
 * evaluation ({@code d2v probe}, {@code d2v finetune}) and the small study ({@code d2v demo --study}).
 * docs/evaluation.md describes the tasks, splits, floors and figures.
 *
 * <ul>
 *   <li>{@link org.d2v.demo.DemoRun} over a {@link org.d2v.demo.DemoData}: times a few pretraining
 *       steps on every available backend, turns the wall-clock budget into a step count on the
 *       fastest, probes the model at its random initialisation, pretrains in equal parts (the train
 *       helper's Pretrainer, resumed from its own checkpoint after each quick probe), then probes the
 *       pretrained model and the raw features on every task.</li>
 *   <li>{@link org.d2v.demo.ProbeTasks}: Fashion-MNIST, spoken digits of held-out voices, sentiment of a
 *       held-out domain, each with its raw-feature floor ({@link org.d2v.eval.ProbeTask}).</li>
 *   <li>{@link org.d2v.demo.Probe} / {@link org.d2v.demo.Features}: the linear probe (eval's L-BFGS
 *       logistic regression, L2 chosen on held-out training examples) on frozen encoder features
 *       extracted in groups of equal-shaped inputs.</li>
 *   <li>{@link org.d2v.demo.Report}, {@link org.d2v.demo.Charts}, {@link org.d2v.demo.MaskFigure},
 *       {@link org.d2v.demo.ReconstructionFigure}, {@link org.d2v.demo.Study}: report.md, results.json,
 *       study.md and headless java.awt PNGs.</li>
 *   <li>{@link org.d2v.demo.Classifier} / {@link org.d2v.demo.Finetune}: docs/algorithm.md §10's classifier
 *       (student encoder → mean pool → LayerNorm → Linear) for every modality, loaded by parameter
 *       name from a checkpoint's student tensors, trained end to end.</li>
 *   <li>{@link org.d2v.demo.DemoPresets}: {@code image-demo}, {@code audio-demo}, {@code text-demo},
 *       smaller than the tiny presets so that minutes of a shared CPU give a measurable effect.</li>
 * </ul>
 */
package org.d2v.demo;

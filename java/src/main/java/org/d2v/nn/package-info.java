/**
 * Modules over one flat parameter buffer.
 *
 * <p>A model declares its parameters while it is constructed, on a
 * {@link org.d2v.nn.ParameterStore.Builder}; {@code build} then allocates the parameter and
 * gradient buffers once, initialises them from a seed, and binds every
 * {@link org.d2v.nn.Parameter} to its view:
 *
 * <pre>{@code
 * ParameterStore.Builder b = ParameterStore.builder();
 * Linear stem = new Linear(b.child("stem"), in, dim, true);
 * ParameterStore.Builder blocks = b.child("blocks").tracked(true);   // EMA-tracked by the teacher
 * TransformerBlock blk = new TransformerBlock(blocks.child("0"), dim, heads, 4, 1e-5, false, drops);
 * try (ParameterStore store = b.build(device, DType.F32, seed);
 *      Optimizer opt = new Optimizer(store, new AdamW.Config(0.9, 0.98, 1e-6, 0.01), schedule, clip)) {
 *     blk.train(rng);
 *     try (Scope step = Scope.open(); Tape tape = Tape.record()) {
 *         store.zeroGrads();
 *         Tensor loss = ...;            // F.* and module forwards
 *         tape.backward(loss);
 *         opt.step();
 *     }
 * }
 * }</pre>
 *
 * <p>Layout: [tracked·decay | tracked·no-decay | untracked·no-decay | untracked·decay], declaration
 * order inside each group, every parameter aligned to {@link org.d2v.nn.ParameterStore#ALIGN}
 * elements. A teacher built from the same tracked declarations (in the same order) has the same
 * tracked range, so {@link org.d2v.optim.EmaTeacher} updates it with one launch.
 */
package org.d2v.nn;

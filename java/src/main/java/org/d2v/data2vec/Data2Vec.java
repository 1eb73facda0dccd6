package org.d2v.data2vec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.d2v.autograd.F;
import org.d2v.autograd.Tape;
import org.d2v.backend.AdamWDesc;
import org.d2v.backend.Device;
import org.d2v.backend.Ops;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.LossConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.config.OptimConfig;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.data2vec.mask.Masker;
import org.d2v.data2vec.mask.Maskers;
import org.d2v.dist.DataParallel;
import org.d2v.nn.AttentionBias;
import org.d2v.nn.Module;
import org.d2v.nn.Parameter;
import org.d2v.nn.ParameterStore;
import org.d2v.optim.EmaTeacher;
import org.d2v.optim.GradClip;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Scope;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.d2v.train.BatchShare;
import org.d2v.train.StatsRing;
import org.d2v.train.StepStats;
import org.d2v.train.TrainableModel;

/**
 * data2vec 2.0 (docs/algorithm.md §1, §9) for one modality: the student (local encoder, shared post-LN
 * Transformer, conv decoder) in one flat {@link ParameterStore}, the EMA teacher over the
 * tracked parameters in a second store of the same tracked layout, and AdamW moments.
 *
 * <pre>{@code
 * try (Data2Vec model = new Data2Vec(device, Presets.imageTiny())) {
 *     StepStats s = model.trainStep(batch, step, lr, rng);
 * }
 * }</pre>
 */
public final class Data2Vec implements TrainableModel {
    /** One forward pass: the total loss, its terms, the decoder output and the teacher targets. */
    record Forward(Tensor loss, Tensor regression, Tensor cls, Tensor pred, Tensor target, Tensor maskedIdx) {}

    /**
     * What the loss terms of a micro-batch are divided by: the masked positions of the whole global
     * batch (all ranks, all micro-batches, all clones: fairseq's sample_size, docs/algorithm.md §7.1), and for the
     * image CLS term the global batch in units of the per-device batch (see {@link #trainStep}).
     */
    record Normalisers(double masked, double cls) {}

    /** Philox blocks of one update: update n draws only from [base, base + UPDATE_BLOCKS) of the run's stream. */
    static final long UPDATE_BLOCKS = 1L << 40;
    /** Masks: sample i of the global batch draws from its own range of this many blocks at the start of the update's. */
    static final long MASK_BLOCKS_PER_SAMPLE = 1L << 22;
    /** The device draws (dropout, noise) of the update start here, after the masks of up to 2^16 samples. */
    static final long DEVICE_DRAWS_AT = 1L << 38;
    static final int MAX_GLOBAL_SAMPLES = (int) (DEVICE_DRAWS_AT / MASK_BLOCKS_PER_SAMPLE);

    /** Layout of the update's sums (see {@link #trainStep}): loss terms, the index-error flag, then 4 × width guard sums. */
    private static final int SUM_LOSS = 0, SUM_REGRESSION = 1, SUM_CLS = 2, SUM_INDEX_ERRORS = 3, SUM_GUARDS = 4;

    private final Device device;
    private final Ops ops;
    private final Precision precision;
    /** The masters' dtype: parameters, gradients, moments, constants, targets. */
    private final DType dtype;
    /** The activations' storage: inputs, activations and their gradients. */
    private final DType act;
    private final Data2VecConfig cfg;
    private final ParameterStore store;
    private final ParameterStore teacherStore;
    private final Encoder encoder;
    private final Backbone student;
    private final Backbone teacher;
    private final AudioFeatures audio;
    private final TextFeatures text;
    /** The teacher's EMA copy of the text local encoder (teacher input "ema"), else null. */
    private final TextFeatures teacherText;
    private final ConvDecoder decoder;
    private final List<Module> studentModules = new ArrayList<>();
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final Tensor adamM;
    private final Tensor adamV;
    private final Tensor positions2d;
    private final Tensor alibiSlopes;
    private final Masker masker;
    private final EmaTeacher ema;
    /** Σ g² and the clip factor of the current step (device scalars; the norm goes to the stats ring). */
    private final Tensor clipSumSquares;
    private final Tensor clipFactor;
    /** Per-step statistics on the device, read by the host once per logging interval. */
    private final StatsRing stats;
    /** Width of the decoder's output (D, or a patch's pixels): the collapse guards' channels. */
    private final int predicted;
    /** The update's sums over its micro-batches (and, summed once, over the ranks): see {@link #trainStep}. */
    private final Tensor updateSums;
    private boolean closed;

    /** Steps whose statistics can wait on the device before the host must read them (see {@link StatsRing}). */
    static final int STATS_SLOTS = 128;

    public Data2Vec(Device device, Data2VecConfig cfg) { this(device, cfg, device.defaultFloat()); }

    /** Everything in {@code dtype} (F32, or F64 on the reference backend). */
    public Data2Vec(Device device, Data2VecConfig cfg, DType dtype) { this(device, cfg, Precision.of(dtype)); }

    /** With the mixed-precision policy {@code precision} (docs/precision.md); {@link Precision#check} first. */
    public Data2Vec(Device device, Data2VecConfig cfg, Precision precision) {
        this.device = device;
        this.ops = device.ops();
        this.precision = precision.check(device);
        this.dtype = precision.master();
        this.act = precision.activations();
        this.cfg = cfg;
        int dim = cfg.encoder().dim();
        ModalityConfig m = cfg.modality();
        this.masker = Maskers.of(cfg.mask(), m);

        // Declaration order: untracked local encoder, tracked backbone, untracked decoder.
        ParameterStore.Builder b = ParameterStore.builder();
        encoder = new Encoder(b, cfg);
        audio = encoder.audio();
        text = encoder.text();
        student = encoder.backbone();
        boolean grid = m instanceof ModalityConfig.Image;
        int g = m instanceof ModalityConfig.Image img ? img.grid() : 0;
        this.predicted = cfg.loss().pixels() ? pixelTargetDim(cfg) : dim;
        decoder = new ConvDecoder(b.child("decoder"), cfg.decoder(), dim, predicted, grid, g, g, m instanceof ModalityConfig.Text);
        studentModules.add(encoder);
        studentModules.add(decoder);

        ParameterStore.Builder tb = ParameterStore.builder();
        // The teacher's own text local encoder (teacher input "ema"), declared where the student's is.
        teacherText = m instanceof ModalityConfig.Text t && t.teacherInput() == ModalityConfig.TeacherInput.EMA ? new TextFeatures(tb, t, dim) : null;
        if (teacherText != null) teacherText.eval();
        teacher = new Backbone(tb, cfg);
        teacher.eval();
        ParameterStore s = null, t = null;
        try {
            s = b.build(device, dtype, act, cfg.seed());
            t = tb.build(device, dtype, act, cfg.seed());
            this.ema = new EmaTeacher(t, s, cfg.ema().schedule());
            ema.copyFromStudent();
            t.requiresGrad(false);
            this.store = s;
            this.teacherStore = t;
            this.adamM = zerosOwned(s.length());
            this.adamV = zerosOwned(s.length());
            this.positions2d = m instanceof ModalityConfig.Image img
                    ? constant(SinCos2d.table(dim, img.grid(), img.grid()), Shape.of(img.tokens() * dim)) : null;
            this.alibiSlopes = m instanceof ModalityConfig.Audio
                    ? constant(AttentionBias.slopes(cfg.encoder().heads()), Shape.of(cfg.encoder().heads())) : null;
            Tensor clip = zerosOwned(2);
            this.clipSumSquares = clip.view(0, Shape.of(1));
            this.clipFactor = clip.view(1, Shape.of(1));
            this.stats = new StatsRing(device, dtype, STATS_SLOTS, this::problem);
            this.updateSums = zerosOwned(SUM_GUARDS + 4L * predicted);
        } catch (RuntimeException e) {
            if (s != null) s.close();
            if (t != null) t.close();
            owned.forEach(DeviceBuffer::close);
            throw e;
        }
    }

    /** A zero-filled flat buffer owned by the model (Adam moments). */
    private Tensor zerosOwned(long length) {
        DeviceBuffer buf = device.allocate(dtype, Math.max(1, length));
        owned.add(buf);
        Tensor t = Tensor.view(buf, 0, Shape.of((int) length));
        ops.fill(t, 0);
        return t;
    }

    /** A device constant owned by the model (never by a caller's scope). */
    private Tensor constant(double[] values, Shape shape) {
        DeviceBuffer buf = device.allocate(dtype, Math.max(1, values.length));
        owned.add(buf);
        device.upload(buf, 0, values);
        return Tensor.view(buf, 0, shape);
    }

    // ---- accessors --------------------------------------------------------------------------

    @Override public Device device() { return device; }

    public Data2VecConfig config() { return cfg; }

    /** The mixed-precision policy this model runs with. */
    public Precision precision() { return precision; }

    /** The student's parameters (flat buffers, names, tracked/decay flags). */
    public ParameterStore parameters() { return store; }

    /** The EMA teacher's parameters: the student's tracked ones, same layout. */
    public ParameterStore teacherParameters() { return teacherStore; }

    public Masker masker() { return masker; }

    /** Tokens T of one sample of this batch (patches, frames or tokens). */
    public int tokens(Batch batch) {
        ModalityConfig m = cfg.modality();
        if (m instanceof ModalityConfig.Image img && batch instanceof Batch.Images b) {
            if (b.height() != img.size() || b.width() != img.size() || b.channels() != img.channels()) {
                throw new IllegalArgumentException(cfg.name() + " wants " + img.size() + "×" + img.size() + "×" + img.channels()
                        + " images, got " + b.height() + "×" + b.width() + "×" + b.channels());
            }
            return img.tokens();
        }
        if (m instanceof ModalityConfig.Audio a && batch instanceof Batch.Audio b) {
            int frames = a.framesFor(b.samples());
            if (frames < 2) throw new IllegalArgumentException(cfg.name() + ": " + b.samples() + " samples give " + frames + " frames");
            return frames;
        }
        if (m instanceof ModalityConfig.Text t && batch instanceof Batch.Text b) {
            int[] ids = b.tokens();
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] < 0 || ids[i] >= t.vocab()) {
                    throw new IllegalArgumentException(cfg.name() + ": token id " + ids[i] + " at position " + i
                            + " is outside the vocabulary of " + t.vocab());
                }
            }
            return b.length();
        }
        throw new IllegalArgumentException(cfg.name() + " cannot train on " + batch.getClass().getSimpleName() + " batches");
    }

    /** Parameter counts of the student by top-level part (patch_embed, blocks, decoder, …). */
    public Map<String, Long> parameterCounts() { return countByPart(store); }

    /**
     * Parameter counts by part computed from the configuration alone: the model is declared on a
     * device that allocates nothing (the base presets are too big to build in tests).
     */
    public static Map<String, Long> countParameters(Data2VecConfig cfg) {
        try (Device dry = new DryRunDevice(); Data2Vec m = new Data2Vec(dry, cfg, DType.F32)) {
            return m.parameterCounts();
        }
    }

    static Map<String, Long> countByPart(ParameterStore s) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Parameter p : s.parameters()) out.merge(p.name().split("\\.")[0], p.numel(), Long::sum);
        return out;
    }

    // ---- training ---------------------------------------------------------------------------

    /**
     * One update (docs/algorithm.md §9) on this rank's micro-batches of the global batch. Nothing is read back:
     * the loss terms, the collapse-guard statistics, the gradient norm and the index-error flag go
     * into this step's slot of the device stats ring, and the returned stats are pending until the
     * ring is read (see {@link StepStats}). The collapse guards and the gradient-norm check run then,
     * and name this step.
     *
     * <p>The update equals one step on the whole global batch (docs/distributed.md):
     * <ul>
     *   <li>randomness per global sample: sample i's masks come from its own stream, and every device
     *       draw of a micro-batch takes its samples' part of the whole batch's draw ({@link ShareStream});</li>
     *   <li>the masked positions of every micro-batch on every rank are counted first and summed over the
     *       ranks, and each micro-batch's regression loss is divided by that global count, so the
     *       accumulated gradient is the gradient of the global batch's loss;</li>
     *   <li>the image CLS term (summed over rows, docs/algorithm.md §7.2) is divided by the global batch in units of
     *       the per-device batch ({@link Data2VecConfig#deviceBatch()}): fairseq weighs it by the batch of
     *       one GPU; d2v keeps that weight fixed, however the global batch is split;</li>
     *   <li>after the last backward the flat gradient buffer is summed over the ranks (one all-reduce),
     *       together with a small buffer of the loss terms and the collapse guards' per-channel sums, so
     *       the statistics describe the global batch; then clipping, AdamW and the EMA run once.</li>
     * </ul>
     */
    @Override
    public StepStats trainStep(BatchShare share, long step, double lr, RandomStream rng, DataParallel dp) {
        ensureOpen();
        if (step < 1) throw new IllegalArgumentException("steps count from 1, got " + step);
        if (share.globalSamples() > MAX_GLOBAL_SAMPLES) {
            throw new IllegalArgumentException("a global batch of " + share.globalSamples() + " samples exceeds " + MAX_GLOBAL_SAMPLES);
        }
        long base = rng.takeUniform(4 * UPDATE_BLOCKS); // the update's range, the same on every rank
        List<MaskBatch> masks = new ArrayList<>();
        long[] counts = new long[3]; // samples, masked positions (all clones), tokens
        for (BatchShare.Part part : share.parts()) {
            if (part.size() == 0) {
                masks.add(null);
                continue;
            }
            int tokens = tokens(part.batch());
            MaskBatch m = masks(part, tokens, rng.seed(), base);
            masks.add(m);
            counts[0] += part.size();
            counts[1] += (long) m.rows() * m.masked();
            counts[2] += (long) part.size() * tokens;
        }
        dp.sumCounts(counts);
        if (counts[0] != share.globalSamples()) {
            throw new IllegalStateException("step " + step + ": the ranks' micro-batches hold " + counts[0] + " samples, not the global batch's "
                    + share.globalSamples() + " (the ranks do not read the same data)");
        }
        Normalisers norm = new Normalisers(counts[1], (double) share.globalSamples() / cfg.deviceBatch());
        stats.slot(step); // reads the ring first if this slot still holds an unread step
        store.zeroGrads();
        ops.fill(updateSums, 0);
        for (int k = 0; k < share.parts().size(); k++) {
            BatchShare.Part part = share.parts().get(k);
            if (part.size() > 0) accumulate(part, masks.get(k), norm, new ShareStream(rng.seed(), base + DEVICE_DRAWS_AT, part.first(),
                    part.size(), share.globalSamples()));
        }
        try (Scope scope = Scope.open()) {
            ops.takeIndexErrors(updateSums.view(SUM_INDEX_ERRORS, Shape.of(1)));
            dp.sumGradients(store.grads());
            dp.sumStats(updateSums);
            writeStats(step, counts[1]);
            optimizerStep(step, lr, stats.field(step, StatsRing.GRAD_NORM));
            // Σθ after the update: finite exactly when every weight is (the teacher averages finite students), so the loop
            // stops at the step that made a weight non-finite, before a checkpoint could save it (a finite loss proves nothing of the update).
            ops.sum(store.values(), stats.field(step, StatsRing.WEIGHT_SUM));
            // θ_T ← τθ_T + (1 − τ)θ_S over the tracked range, one launch (docs/algorithm.md §5); pixel targets need no teacher.
            if (!cfg.loss().pixels()) ema.update(step);
            return stats.pending(step, counts[0], counts[2]);
        }
    }

    /**
     * The masks that {@code trainStep} of the whole {@code batch} draws from a step stream now at
     * {@code rng}'s position ({@code rng} is not advanced): what a twin implementation replays.
     */
    public MaskBatch stepMasks(Batch batch, RandomStream rng) {
        long base = new RandomStream(rng.seed(), rng.position()).takeUniform(4 * UPDATE_BLOCKS);
        return masks(new BatchShare.Part(batch, 0), tokens(batch), rng.seed(), base);
    }

    /** The masks of a micro-batch: each sample's M rows from the sample's own stream (its index in the global batch). */
    private MaskBatch masks(BatchShare.Part part, int tokens, long seed, long base) {
        int clones = cfg.clones(), per = clones * tokens;
        int[] all = new int[part.size() * per];
        int masked = 0;
        for (int j = 0; j < part.size(); j++) {
            MaskBatch one = masker.sample(clones, tokens, new RandomStream(seed, base + (part.first() + j) * MASK_BLOCKS_PER_SAMPLE));
            System.arraycopy(one.mask(), 0, all, j * per, per);
            masked = one.masked();
        }
        return new MaskBatch(part.size() * clones, tokens, masked, all);
    }

    /**
     * Forward and backward of one micro-batch, adding into the flat gradient buffer and the update's
     * sums. Its activations are freed before the next micro-batch starts.
     */
    private void accumulate(BatchShare.Part part, MaskBatch masks, Normalisers norm, RandomStream stream) {
        for (Module mod : studentModules) mod.train(stream);
        try (Scope scope = Scope.open()) {
            Forward f;
            try (Tape tape = Tape.record()) {
                f = forward(part.batch(), masks, stream, norm);
                tape.backward(f.loss());
            }
            ops.axpby(1, f.loss(), 1, updateSums.view(SUM_LOSS, Shape.of(1)));
            ops.axpby(1, f.regression(), 1, updateSums.view(SUM_REGRESSION, Shape.of(1)));
            if (f.cls() != null) ops.axpby(1, f.cls(), 1, updateSums.view(SUM_CLS, Shape.of(1)));
            addChannelSums(F.repeatRows(f.target(), cfg.clones()), f.maskedIdx(), SUM_GUARDS);
            addChannelSums(f.pred(), f.maskedIdx(), SUM_GUARDS + 2 * predicted);
        }
    }

    /** Σ x and Σ x² per channel over the masked positions, added at {@code at} of the update's sums. */
    private void addChannelSums(Tensor x, Tensor maskedIdx, int at) {
        Tensor sel = F.gatherRows(x, maskedIdx);
        int n = (int) (sel.numel() / predicted);
        ops.axpby(1, F.reduceMiddle(sel, 1, n, predicted, 1.0), 1, updateSums.view(at, Shape.of(predicted)));
        ops.axpby(1, F.reduceMiddle(F.mul(sel, sel), 1, n, predicted, 1.0), 1, updateSums.view(at + predicted, Shape.of(predicted)));
    }

    /**
     * The summed statistics into the step's slot: the loss terms, the flag, and the collapse guards
     * (docs/algorithm.md §7.3, fairseq's compute_var over all GPUs) from the per-channel sums over all {@code masked} positions.
     */
    private void writeStats(long step, long masked) {
        ops.copy(updateSums.view(SUM_LOSS, Shape.of(3)), stats.slot(step).view(StatsRing.LOSS, Shape.of(3)));
        ops.copy(updateSums.view(SUM_INDEX_ERRORS, Shape.of(1)), stats.field(step, StatsRing.INDEX_ERRORS));
        int n = (int) Math.min(Integer.MAX_VALUE, masked);
        for (int g = 0; g < 2; g++) {
            Tensor mean = Tensor.empty(device, dtype, Shape.of(predicted)), meanSq = Tensor.empty(device, dtype, Shape.of(predicted));
            ops.axpby(1.0 / masked, updateSums.view(SUM_GUARDS + 2 * g * predicted, Shape.of(predicted)), 0, mean);
            ops.axpby(1.0 / masked, updateSums.view(SUM_GUARDS + (2 * g + 1) * predicted, Shape.of(predicted)), 0, meanSq);
            ops.meanChannelStd(n, mean, meanSq, stats.field(step, g == 0 ? StatsRing.TARGET_STD : StatsRing.PRED_STD));
        }
    }

    /**
     * The checks on a step's statistics when they reach the host. A non-finite loss is left to the
     * training loop, which stops on it as a divergence; then bad ids, a non-finite gradient norm and
     * the collapse guards, each naming the step.
     */
    private String problem(long step, double[] f) {
        if (f[StatsRing.INDEX_ERRORS] != 0) {
            return "step " + step + ": an id was outside its range (found on the device; the step read a clamped row instead)";
        }
        if (!Double.isFinite(f[StatsRing.LOSS])) return null;
        if (!Double.isFinite(f[StatsRing.GRAD_NORM])) return "step " + step + ": the gradient norm is " + f[StatsRing.GRAD_NORM];
        if (!Double.isFinite(f[StatsRing.WEIGHT_SUM])) return "step " + step + ": the weights are not finite after the update";
        return CollapseGuard.problem(cfg.loss(), step, f[StatsRing.TARGET_STD], f[StatsRing.PRED_STD]);
    }

    /**
     * Student and teacher forward for one batch with the given masks (docs/algorithm.md §9), recording on the
     * active tape, its loss normalised as a batch of its own. Package-private so tests can fix the masks.
     */
    Forward forward(Batch batch, MaskBatch masks, RandomStream rng) {
        return forward(batch, masks, rng, new Normalisers((double) masks.rows() * masks.masked(), (double) batch.size() / cfg.deviceBatch()));
    }

    /** {@link #forward(Batch, MaskBatch, RandomStream)} as a micro-batch of a larger batch: the loss terms divided by {@code norm}. */
    Forward forward(Batch batch, MaskBatch masks, RandomStream rng, Normalisers norm) {
        int samples = batch.size(), clones = cfg.clones(), rows = samples * clones, dim = cfg.encoder().dim();
        int tokens = tokens(batch);
        if (masks.rows() != rows || masks.tokens() != tokens) {
            throw new IllegalArgumentException("masks are " + masks.rows() + "×" + masks.tokens() + ", expected " + rows + "×" + tokens);
        }
        Tensor keep = Tensor.ofInts(device, Shape.of(rows, masks.kept()), masks.keepIndices());
        Tensor maskedIdx = Tensor.ofInts(device, Shape.of(rows, masks.masked()), masks.maskedIndices());
        Tensor mask = Tensor.ofInts(device, Shape.of(rows, tokens), masks.mask());

        // Local features (once per sample) and the teacher's targets from the unmasked input.
        Tensor local;
        Tensor target;
        if (batch instanceof Batch.Images b) {
            Tensor images = upload(b.pixels(), b.size(), b.height(), b.width(), b.channels());
            local = student.patchEmbed(images, positions2d);
            target = cfg.loss().pixels() ? Tensor.of(device, dtype, Shape.of(samples, tokens, pixelTargetDim(cfg)), PixelTargets.of(b, cfg))
                    : teacherTargets(() -> teacher.prependCls(teacher.patchEmbed(images, positions2d)), () -> AttentionBias.NONE);
        } else if (batch instanceof Batch.Audio b) {
            local = audio.forward(upload(b.waves(), b.size(), b.samples()));
            Tensor u = detach(local);
            target = teacherTargets(() -> F.add(u, teacher.convPositions(u)),
                    () -> teacher.alibi(alibiSlopes, Indices.iota(device, samples, tokens, 0)));
        } else {
            Batch.Text b = (Batch.Text) batch;
            Tensor ids = Tensor.ofInts(device, Shape.of(b.size(), b.length()), b.tokens());
            int[] starts = text.startRows(b.size()); // null unless position-offsets, in training
            local = text.forward(ids, starts);
            Tensor u = detach(local);
            Supplier<Tensor> teacherInput = switch (((ModalityConfig.Text) cfg.modality()).teacherInput()) {
                case STUDENT -> () -> u;
                case TOKENS -> () -> text.tokensOnly(ids);
                case EMA -> () -> teacherText.forward(ids, starts); // the student's rows: the two tables stay comparable
            };
            target = teacherTargets(teacherInput, () -> AttentionBias.NONE);
        }

        // Student: M clones, masked tokens dropped, positions, extra tokens, encoder.
        Tensor x = F.gatherRows(F.repeatRows(local, clones), keep);
        AttentionBias bias = AttentionBias.NONE;
        if (student.hasConvPositions()) {
            Tensor full = F.scatterRows(x, keep, Tensor.zeros(device, act, rows, tokens, dim));
            x = F.add(x, F.gatherRows(student.convPositions(full), keep));
            bias = student.alibi(alibiSlopes, keep);
        }
        x = student.prependCls(x);
        Tensor encoded = student.encode(x, bias).x();
        int extra = student.extraTokens();

        // Decoder: kept tokens back in place, noise at the masked slots (docs/algorithm.md §6).
        Tensor kept = decoder.inputDropout(extra > 0 ? Targets.dropLeading(encoded, extra) : encoded);
        Tensor pred = decoder.forward(Objective.decoderInput(kept, keep, tokens, rng));

        LossConfig lc = cfg.loss();
        double s = lc.scaleFor(dim);
        Tensor regression = Objective.regression(pred, target, mask, clones, norm.masked(), s);
        Tensor cls = null;
        Tensor loss = regression;
        if (extra > 0 && lc.clsWeight() > 0) {
            cls = Objective.cls(encoded, target, clones, lc.clsWeight() * s, norm.cls());
            loss = F.add(regression, cls);
        }
        return new Forward(loss, regression, cls, pred, target, maskedIdx);
    }

    /** Values per patch: the decoder's output width with pixel targets. */
    private static int pixelTargetDim(Data2VecConfig cfg) {
        if (!(cfg.modality() instanceof ModalityConfig.Image img)) throw new IllegalArgumentException(cfg.name() + ": pixel targets are for images");
        return img.patch() * img.patch() * img.channels();
    }

    /**
     * What the model predicts at masked positions next to what it should predict, for figures:
     * one forward in eval mode (no dropout) with the given masks (rows = samples × clones).
     *
     * @param prediction decoder output [rows, T, P] (P = D, or a patch's pixels with pixel targets)
     * @param target     the targets [samples, T, P], shared by a sample's clones
     * @param mask       [rows, T], 1 = masked
     */
    public record Reconstruction(int rows, int tokens, int width, double[] prediction, double[] target, int[] mask) {}

    public Reconstruction reconstruct(Batch batch, MaskBatch masks, RandomStream rng) {
        ensureOpen();
        for (Module mod : studentModules) mod.eval();
        try (Scope scope = Scope.open()) {
            Forward f = forward(batch, masks, rng);
            return new Reconstruction(f.pred().dim(0), f.pred().dim(1), f.pred().dim(2), f.pred().toDoubles(), f.target().toDoubles(), masks.mask());
        }
    }

    /** {@link #forward} in train mode, dropout and layerdrop drawing from {@code rng} (tests fix masks and streams). */
    Forward forwardTraining(Batch batch, MaskBatch masks, RandomStream rng) {
        for (Module mod : studentModules) mod.train(rng);
        return forward(batch, masks, rng);
    }

    /**
     * The teacher's targets for an unmasked input. Its activations live in a scope of their own
     * that closes as soon as the targets exist, so they never add to the student's peak memory.
     */
    private Tensor teacherTargets(Supplier<Tensor> input, Supplier<AttentionBias> bias) {
        try (Scope teacherScope = Scope.open()) {
            return teacherScope.keep(Targets.build(teacher.encode(input.get(), bias.get()).ffn(), teacher.extraTokens(), cfg.loss()));
        }
    }

    /** The same values without the autograd link: the teacher never sends gradients back. */
    private static Tensor detach(Tensor x) { return Tensor.view(x.buffer(), x.offset(), x.shape()); }

    /** Model inputs are activations: stored in the activations' dtype. */
    private Tensor upload(float[] values, int... dims) {
        double[] v = new double[values.length];
        for (int i = 0; i < v.length; i++) v[i] = values[i];
        return Tensor.of(device, act, Shape.of(dims), v);
    }

    /**
     * Global-norm clipping folded into AdamW, one launch per optimiser group, all on the device:
     * the norm before clipping goes to {@code norm} (a stats field), the clip factor stays on the
     * device for AdamW to read. The step number comes from the loop (resume), and weight decay may
     * cover every group (what fairseq actually runs, docs/algorithm.md §8), so this drives the AdamW op directly
     * rather than through optim.AdamW, whose groups follow the store's decay flags.
     */
    private void optimizerStep(long step, double lr, Tensor norm) {
        OptimConfig o = cfg.optim();
        GradClip.onDevice(store, o.clipNorm(), clipSumSquares, norm, clipFactor);
        for (ParameterStore.Range r : store.ranges()) {
            double wd = r.decay() || !o.exemptFromDecay() ? o.weightDecay() : 0;
            ops.adamw(new AdamWDesc(lr, o.beta1(), o.beta2(), o.eps(), wd, step),
                    ParameterStore.slice(store.values(), r), ParameterStore.slice(store.grads(), r),
                    ParameterStore.slice(adamM, r), ParameterStore.slice(adamV, r), clipFactor,
                    store.working() == null ? null : ParameterStore.slice(store.working(), r)); // the bf16 copy in the same launch
        }
    }

    // ---- features for evaluation ------------------------------------------------------------

    /**
     * The student encoder on unmasked input in eval mode, mean-pooled over the non-extra tokens
     * (the fine-tuning recipe's pooling, docs/algorithm.md §10): [samples × D] row-major.
     */
    public double[] pooledFeatures(Batch batch) {
        ensureOpen();
        tokens(batch);
        for (Module mod : studentModules) mod.eval();
        try (Scope scope = Scope.open()) {
            return encoder.pooled(batch).toDoubles();
        }
    }

    /**
     * Probe features richer than {@link #pooledFeatures}: per sample, the final output mean-pooled
     * over the tokens, the final CLS token (images), the encoder's input (local features with
     * positions) mean-pooled, then the FFN output of each main block (the teacher's target layers)
     * mean-pooled; [batch.size() × {@link #layerFeatureDim}] row-major. Eval mode, no masking.
     * Intermediate layers often probe better than the last one in data2vec-style models, whose top
     * layers specialise in regressing targets; the input layer keeps what is lexical (text).
     */
    public double[] layerFeatures(Batch batch) {
        ensureOpen();
        tokens(batch);
        for (Module mod : studentModules) mod.eval();
        try (Scope scope = Scope.open()) {
            Encoder.Output o = encoder.encode(batch);
            List<Tensor> parts = new ArrayList<>();
            parts.add(F.meanOverTime(o.tokens()));
            Tensor cls = o.cls();
            if (cls != null) parts.add(cls);
            parts.add(F.meanOverTime(o.input()));
            for (Tensor a : o.ffn()) parts.add(F.meanOverTime(a));
            int n = batch.size(), d = cfg.encoder().dim(), k = parts.size();
            double[] out = new double[n * k * d];
            for (int p = 0; p < k; p++) {
                double[] v = parts.get(p).toDoubles();
                for (int i = 0; i < n; i++) System.arraycopy(v, i * d, out, (i * k + p) * d, d);
            }
            return out;
        }
    }

    /** Width of a {@link #layerFeatures} row: (2 + extra tokens + main blocks) × D. */
    public int layerFeatureDim() { return (2 + student.extraTokens() + cfg.encoder().depth()) * cfg.encoder().dim(); }

    // ---- state ------------------------------------------------------------------------------

    /** student.NAME, teacher.NAME, adam.m.NAME, adam.v.NAME: views of the live buffers. */
    @Override
    public Map<String, Tensor> state() {
        ensureOpen();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Parameter p : store.parameters()) out.put("student." + p.name(), p.tensor());
        for (Parameter p : teacherStore.parameters()) out.put("teacher." + p.name(), p.tensor());
        for (Parameter p : store.parameters()) out.put("adam.m." + p.name(), adamM.view(p.offset(), p.shape()));
        for (Parameter p : store.parameters()) out.put("adam.v." + p.name(), adamV.view(p.offset(), p.shape()));
        return out;
    }

    @Override public String precisionId() { return precision.id(); }

    /** The working copies (bf16) follow the restored masters. */
    @Override
    public void restored() {
        store.refreshWorking();
        teacherStore.refreshWorking();
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("model " + cfg.name() + " is closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        stats.close();
        store.close();
        teacherStore.close();
        owned.forEach(DeviceBuffer::close);
    }
}

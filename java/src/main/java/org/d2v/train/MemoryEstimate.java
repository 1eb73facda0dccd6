package org.d2v.train;

import java.util.Locale;
import java.util.function.BiFunction;
import org.d2v.backend.Device;
import org.d2v.backend.DeviceMemory;
import org.d2v.backend.RandomStream;
import org.d2v.data2vec.Batch;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.EncoderConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * The device memory a run needs, estimated before its first step from the configuration alone,
 * and the check that the device can hold it (a batch that cannot fit fails in a second, naming the
 * numbers, instead of after minutes of work).
 *
 * <p>The formula: bytes in use at the peak of a step, for a batch of B samples,
 * <pre>
 *   M(B) = S + B·A
 *   S = state + constants + the step's batch-independent buffers
 *   state = (values + gradients + 2 Adam moments) of the student's P parameters + the teacher's P_T values
 *         = (4P + P_T) · e          (e: bytes of the device's float type: 4, or 8 for float64)
 *   A = the activations of one sample: its M masked clones' tokens through the student (kept
 *       tokens), the teacher's targets, the decoder and the backward pass, per element · e
 * </pre>
 * P, P_T, S and A are not guessed from layer shapes: the model is built and one step is run at
 * batch 1 and at batch 2 on a {@link CountingDevice}, which computes nothing and records every
 * buffer and the peak of live bytes (milliseconds, even for the base presets); A = peak(2) −
 * peak(1), S = peak(1) − A. Every activation has B·M rows, so M(B) is linear in B (tested), and
 * equals the bytes in use that a real step of the same shapes reaches (the reference backend
 * allocates exactly what the ops are given; measured against bytesInUse and bytesReserved in
 * MemoryEstimateTest). A kernel device's caching allocator holds somewhat more from the driver
 * (blocks rounded up to size classes, &lt; 25 % each, and freed blocks kept for reuse).
 *
 * <p>The largest single buffer (the flat parameter buffer, or the largest activation at batch B,
 * also linear in B) must fit the device's largest allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE, 2^31
 * elements on the reference backend).
 */
public record MemoryEstimate(int batch, long stateBytes, long fixedBytes, long perSampleBytes, long largestState,
                             long largestActivationOfOne, long largestActivationPerSample) {

    /** Bytes in use at a step's peak for {@code batch} samples: S + B·A. */
    public long total() { return total(batch); }

    public long total(long samples) { return saturatingAdd(fixedBytes, saturatingMul(samples, perSampleBytes)); }

    /** The largest single buffer at {@code batch} samples. */
    public long largestBuffer() {
        return Math.max(largestState, saturatingAdd(largestActivationOfOne, saturatingMul(batch - 1L, largestActivationPerSample)));
    }

    /**
     * The estimate for {@code config} (its batch size) on a device computing in {@code dtype}, for
     * the model {@code models} builds (the same factory the run uses).
     */
    public static MemoryEstimate of(Data2VecConfig config, DType dtype, BiFunction<Data2VecConfig, Device, TrainableModel> models) {
        config = everyLayer(config);
        CountingDevice dry = new CountingDevice(dtype);
        try (TrainableModel m = models.apply(config.withBatchSize(1), dry)) {
            long state = 0;
            for (Tensor t : m.state().values()) state += t.numel() * t.dtype().bytes();
            RandomStream rng = new RandomStream(config.seed());
            long[] peak = new long[3], largest = new long[3];
            for (int b = 1; b <= 2; b++) {
                dry.resetPeak();
                dry.resetLargest();
                m.trainStep(batchOf(config, b), b, 0, rng).resolve();
                peak[b] = dry.peakBytesInUse();
                largest[b] = dry.largestAllocation();
            }
            long perSample = Math.max(0, peak[2] - peak[1]);
            long largestState = 0;
            for (Tensor t : m.state().values()) largestState = Math.max(largestState, t.buffer().length() * t.dtype().bytes());
            return new MemoryEstimate(config.batchSize(), state, peak[1] - perSample, perSample, largestState, largest[1],
                    Math.max(0, largest[2] - largest[1]));
        }
    }

    /**
     * The configuration with layerdrop off: a step that drops layers holds fewer activations, so the
     * estimate is made for the step that keeps them all (which steps drop which is random).
     */
    static Data2VecConfig everyLayer(Data2VecConfig c) {
        EncoderConfig e = c.encoder();
        return c.withEncoder(new EncoderConfig(e.dim(), e.heads(), e.depth(), e.prenetDepth(), e.mlpRatio(), e.normEps(), e.attentionDropout(),
                e.encoderDropout(), e.activationDropout(), e.postMlpDropout(), e.prenetDropout(), 0));
    }

    /** A batch of {@code b} samples of the configuration's largest shape (audio: max_sample_size samples each). */
    static Batch batchOf(Data2VecConfig config, int b) {
        ModalityConfig m = config.modality();
        if (m instanceof ModalityConfig.Image img) {
            return new Batch.Images(b, img.size(), img.size(), img.channels(), new float[b * img.size() * img.size() * img.channels()]);
        }
        if (m instanceof ModalityConfig.Audio a) return new Batch.Audio(b, a.samples(), new float[b * a.samples()]);
        ModalityConfig.Text t = (ModalityConfig.Text) m;
        return new Batch.Text(b, t.length(), new int[b * t.length()]);
    }

    /**
     * Refuses a batch that cannot fit on a device with {@code memory}: an IllegalArgumentException
     * naming {@code option}, the estimate, the device's figures and the largest batch that fits.
     */
    public void check(String option, DeviceMemory memory, String device) {
        if (!memory.known()) return;
        long need = total();
        if (need > memory.total()) {
            long fits = perSampleBytes > 0 ? Math.max(0, (memory.total() - fixedBytes) / perSampleBytes) : 0;
            throw new IllegalArgumentException(option + ": a batch of " + batch + " needs about " + WriteFailure.bytes(need)
                    + " of device memory (" + WriteFailure.bytes(fixedBytes) + " for the model and the step, " + WriteFailure.bytes(perSampleBytes)
                    + " per sample), more than the " + WriteFailure.bytes(memory.total()) + " of " + device + " (" + memory.source() + "); "
                    + (fits > 0 ? "at most about " + fits + " samples fit" : "not even one sample fits: choose a smaller --preset"));
        }
        if (largestBuffer() > memory.maxAllocation()) {
            throw new IllegalArgumentException(option + ": a batch of " + batch + " needs one buffer of about " + WriteFailure.bytes(largestBuffer())
                    + ", larger than the largest " + device + " can allocate (" + WriteFailure.bytes(memory.maxAllocation()) + ", " + memory.source()
                    + "); choose a smaller batch");
        }
    }

    /** One line for the log: the estimate, its parts, and the device's memory. */
    public String describe(DeviceMemory memory, String device) {
        String of = memory.known() ? String.format(Locale.ROOT, " of %s on %s (%s%s)", WriteFailure.bytes(memory.total()), device, memory.source(),
                memory.free() >= 0 ? ", " + WriteFailure.bytes(memory.free()) + " free" : "") : " (" + device + " does not report its memory)";
        return String.format(Locale.ROOT, "memory estimate: %s in use at a step's peak (model state %s, other fixed %s, activations %s per sample x %d)%s",
                WriteFailure.bytes(total()), WriteFailure.bytes(stateBytes), WriteFailure.bytes(fixedBytes - stateBytes),
                WriteFailure.bytes(perSampleBytes), batch, of);
    }

    private static long saturatingMul(long a, long b) {
        long hi = Math.multiplyHigh(a, b), lo = a * b;
        return (hi == 0 && lo >= 0) || (hi == -1 && lo < 0) ? lo : Long.MAX_VALUE;
    }

    private static long saturatingAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}

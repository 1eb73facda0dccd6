package org.d2v.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Tensor;

/**
 * Anomaly mode, after PyTorch's {@code detect_anomaly}: a device that runs everything on another
 * device and, while {@link #startChecking checking}, downloads the outputs of every op right after
 * it ran and throws {@link NonFiniteValueException} at the first NaN or infinity, naming the op,
 * the output, the element, the parameter it belongs to and the code that called the op. Slow (one
 * download per output): meant for replaying one failed step, never for training.
 *
 * <p>Why a device and not only an op decorator: every op finds its ops through its tensors
 * ({@code x.device().ops()}), so a model built on this device sends every op through
 * {@link CheckingOps}. Its buffers wrap the other device's; CheckingOps unwraps tensors before the
 * real op sees them, so the numbers are exactly those the other device computes (a replay of a
 * step is bit-identical to the step). Closing this device leaves the other one open.
 */
public final class CheckingDevice implements Device {
    private final Device inner;
    private final CheckingOps ops;
    private final List<Label> labels = new ArrayList<>();
    private boolean checking;
    private long opIndex;
    private String context = "";

    /** A named range of a buffer (a parameter in a flat store), for messages. */
    private record Label(DeviceBuffer buffer, long offset, long length, String name) {}

    /** A buffer of the inner device that reports this device as its own. */
    static final class Wrapped implements DeviceBuffer {
        final DeviceBuffer inner;
        private final CheckingDevice device;

        Wrapped(CheckingDevice device, DeviceBuffer inner) {
            this.device = device;
            this.inner = inner;
        }

        @Override public Device device() { return device; }

        @Override public DType dtype() { return inner.dtype(); }

        @Override public long length() { return inner.length(); }

        @Override public boolean isClosed() { return inner.isClosed(); }

        @Override public void close() { inner.close(); }
    }

    public CheckingDevice(Device inner) {
        this.inner = inner;
        this.ops = new CheckingOps(this, inner.ops());
    }

    /** Checks every op's outputs (and every upload) from now on; {@code context} prefixes messages ("step 7"). */
    public void startChecking(String context) {
        this.checking = true;
        this.context = context;
        this.opIndex = 0;
    }

    public void stopChecking() { checking = false; }

    /** Ops checked since {@link #startChecking}. */
    public long opsChecked() { return opIndex; }

    /** Names the tensors of {@code state} (a model's parameters and moments) in messages about their elements. */
    public void label(Map<String, Tensor> state) {
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            Tensor t = e.getValue();
            labels.add(new Label(unwrap(t.buffer()), t.offset(), t.numel(), e.getKey()));
        }
    }

    static DeviceBuffer unwrap(DeviceBuffer b) {
        return b instanceof Wrapped w ? w.inner : b;
    }

    static Tensor unwrap(Tensor t) {
        if (t == null || !(t.buffer() instanceof Wrapped w)) return t;
        return Tensor.view(w.inner, t.offset(), t.shape());
    }

    /** Called by CheckingOps after each op with its outputs (null outputs are skipped). */
    void checkOutputs(String op, String[] names, Tensor... outputs) {
        if (!checking) return;
        opIndex++;
        for (int k = 0; k < outputs.length; k++) {
            Tensor t = outputs[k];
            if (t == null || t.dtype() == DType.I32) continue;
            double[] v = new double[(int) t.numel()];
            inner.download(unwrap(t.buffer()), t.offset(), v);
            int bad = firstNonFinite(v);
            if (bad >= 0) {
                throw new NonFiniteValueException(op, context + ": op " + opIndex + " (" + op + ") wrote " + v[bad] + " to its output '"
                        + names[k] + "' " + t.shape() + " at element " + bad + owner(unwrap(t.buffer()), t.offset() + bad)
                        + "; called from " + callSite() + ". Every earlier op's output was finite.");
            }
        }
    }

    private static int firstNonFinite(double[] v) {
        for (int i = 0; i < v.length; i++) if (!Double.isFinite(v[i])) return i;
        return -1;
    }

    private String owner(DeviceBuffer buffer, long element) {
        for (Label l : labels) {
            if (l.buffer() == buffer && element >= l.offset() && element < l.offset() + l.length()) {
                return " (element " + (element - l.offset()) + " of " + l.name() + ")";
            }
        }
        return "";
    }

    /** The first frames outside the backend: the autograd function or module that ran the op. */
    private static String callSite() {
        List<String> frames = new ArrayList<>();
        for (StackTraceElement f : Thread.currentThread().getStackTrace()) {
            String c = f.getClassName();
            if (c.startsWith("java.") || c.startsWith("jdk.") || c.startsWith("org.d2v.backend.")) continue;
            frames.add(c.substring(c.lastIndexOf('.') + 1) + "." + f.getMethodName() + "(" + f.getFileName() + ":" + f.getLineNumber() + ")");
            if (frames.size() == 3) break;
        }
        return frames.isEmpty() ? "(unknown)" : String.join(" <- ", frames);
    }

    // ---- Device ------------------------------------------------------------------------------

    @Override public String name() { return "checking " + inner.name(); }

    @Override public String backend() { return inner.backend(); }

    @Override public Ops ops() { return ops; }

    @Override public DeviceBuffer allocate(DType dtype, long elements) { return new Wrapped(this, inner.allocate(dtype, elements)); }

    @Override
    public void upload(DeviceBuffer dst, long offset, double[] src) {
        if (checking) {
            int bad = firstNonFinite(src);
            if (bad >= 0) {
                throw new NonFiniteValueException("upload", context + ": an upload of " + src.length + " values (the step's input data?) holds "
                        + src[bad] + " at element " + bad + "; called from " + callSite());
            }
        }
        inner.upload(unwrap(dst), offset, src);
    }

    @Override public void download(DeviceBuffer src, long offset, double[] dst) { inner.download(unwrap(src), offset, dst); }

    @Override public void uploadInts(DeviceBuffer dst, long offset, int[] src) { inner.uploadInts(unwrap(dst), offset, src); }

    @Override public void downloadInts(DeviceBuffer src, long offset, int[] dst) { inner.downloadInts(unwrap(src), offset, dst); }

    @Override public void synchronize() { inner.synchronize(); }

    @Override public long bytesInUse() { return inner.bytesInUse(); }

    @Override public long peakBytesInUse() { return inner.peakBytesInUse(); }

    @Override public long bytesReserved() { return inner.bytesReserved(); }

    @Override public long peakBytesReserved() { return inner.peakBytesReserved(); }

    @Override public void resetPeak() { inner.resetPeak(); }

    @Override public RuntimeCounters counters() { return inner.counters(); }

    @Override public void resetCounters() { inner.resetCounters(); }

    @Override public DType defaultFloat() { return inner.defaultFloat(); }

    @Override public DeviceMemory memory() { return inner.memory(); }

    /** Leaves the inner device open: it belongs to whoever made this one. */
    @Override public void close() {}
}

package org.d2v.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;
import org.d2v.backend.Device;
import org.d2v.backend.RandomStream;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * All parameters of one model in ONE flat device buffer, their gradients in a second buffer of
 * the same layout, each parameter a named view into both. Whole-model updates are then a few
 * launches: zeroing the gradients is one fill, the EMA teacher update one launch over
 * {@link #trackedRange()}, AdamW one launch per {@link #ranges() range}.
 *
 * <p>Layout: parameters are grouped, in declaration order within each group, as
 * [tracked·decay | tracked·no-decay | untracked·no-decay | untracked·decay]. Tracked parameters
 * are therefore one contiguous range starting at 0 (a teacher built from the same declarations
 * has the same tracked range), and no-decay parameters are one contiguous range in the middle,
 * so AdamW needs at most three launches.
 * Every parameter starts at a multiple of {@link #ALIGN} elements (vector loads on GPUs); the
 * padding is zero in both buffers and stays zero under AdamW and EMA.
 *
 * <p>With a working dtype other than the masters' (BF16 for an F32 store, docs/precision.md), a
 * third flat buffer of the same layout holds the working copy that GEMMs, convolutions and
 * embeddings read ({@link Parameter#compute()}). It is refreshed from the masters in one launch
 * ({@link #refreshWorking()}) after initialisation and {@link #loadStateDict}; AdamW and the EMA
 * update write it in their own launch. Anything else that writes {@link #values()} must call
 * {@link #refreshWorking()}.
 */
public final class ParameterStore implements AutoCloseable {
    /** Alignment of every parameter's start, in elements. */
    public static final int ALIGN = 16;

    /** A contiguous slice of the flat buffers: one optimiser group (decay on or off), or the tracked range. */
    public record Range(long offset, long length, boolean decay) {}

    private final Device device;
    private final DType dtype;
    private final List<Parameter> parameters;
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private final List<Range> ranges;
    private final Range trackedRange;
    private final DeviceBuffer valueBuffer;
    private final DeviceBuffer gradBuffer;
    private final DeviceBuffer workingBuffer;
    private final Tensor values;
    private final Tensor grads;
    private final Tensor working;
    private boolean closed;

    private ParameterStore(Device device, DType dtype, DType workingDtype, List<Parameter> declared, long seed) {
        this.device = device;
        this.dtype = dtype;
        List<Parameter> ordered = new ArrayList<>();
        List<Range> rs = new ArrayList<>();
        long at = 0;
        long trackedEnd = 0;
        // tracked·decay, tracked·no-decay, untracked·no-decay, untracked·decay (see class comment)
        boolean[][] groups = {{true, true}, {true, false}, {false, false}, {false, true}};
        for (boolean[] g : groups) {
            long start = at;
            for (Parameter p : declared) {
                if (p.tracked() != g[0] || p.decay() != g[1]) continue;
                ordered.add(p);
                at = align(at);
                p.bind(at, null);
                at += p.numel();
            }
            at = align(at);
            if (at > start) {
                Range last = rs.isEmpty() ? null : rs.get(rs.size() - 1);
                if (last != null && last.decay() == g[1]) {
                    rs.set(rs.size() - 1, new Range(last.offset(), at - last.offset(), g[1])); // one launch for both
                } else {
                    rs.add(new Range(start, at - start, g[1]));
                }
            }
            if (g[0]) trackedEnd = at;
        }
        this.parameters = Collections.unmodifiableList(ordered);
        this.ranges = List.copyOf(rs);
        this.trackedRange = new Range(0, trackedEnd, false);
        long length = Math.max(at, 1);
        this.valueBuffer = device.allocate(dtype, length);
        DeviceBuffer g = null, w = null;
        try {
            g = device.allocate(dtype, length);
            if (workingDtype != dtype) w = device.allocate(workingDtype, length);
        } catch (RuntimeException e) {
            valueBuffer.close();
            if (g != null) g.close();
            throw e;
        }
        this.gradBuffer = g;
        this.workingBuffer = w;
        this.values = Tensor.view(valueBuffer, 0, Shape.of((int) length));
        this.grads = Tensor.view(gradBuffer, 0, Shape.of((int) length));
        this.working = w == null ? null : Tensor.view(w, 0, Shape.of((int) length));
        device.ops().fill(values, 0);
        device.ops().fill(grads, 0);
        RandomStream rng = new RandomStream(seed);
        for (Parameter p : declared) { // declaration order: adding a group elsewhere never reshuffles the draws
            Tensor v = Tensor.view(valueBuffer, p.offset(), p.shape());
            v.setGrad(Tensor.view(gradBuffer, p.offset(), p.shape()));
            v.setRequiresGrad(true);
            v.named(p.name());
            Tensor wv = w == null ? null : Tensor.view(w, p.offset(), p.shape()).named(p.name() + " (" + workingDtype + " copy)");
            p.bind(p.offset(), v, wv);
            p.init().apply(v, device.ops(), rng);
            byName.put(p.name(), p);
        }
        refreshWorking();
    }

    private static long align(long n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

    public static Builder builder() { return new Builder(); }

    public Device device() { return device; }

    public DType dtype() { return dtype; }

    /** The dtype compute reads the weights in: {@link #dtype()}, or that of the working copy. */
    public DType workingDtype() { return working == null ? dtype : working.dtype(); }

    /** The whole flat working copy (same layout as {@link #values()}), or null without one. */
    public Tensor working() { return working; }

    /** Rounds the masters into the working copy, one launch over the whole buffer (no-op without one). */
    public void refreshWorking() {
        if (working != null) device.ops().cast(values, working, false);
    }

    /** Parameters in layout order. */
    public List<Parameter> parameters() { return parameters; }

    public List<String> names() { return parameters.stream().map(Parameter::name).toList(); }

    public Parameter parameter(String name) {
        Parameter p = byName.get(name);
        if (p == null) throw new IllegalArgumentException("no parameter named '" + name + "'");
        return p;
    }

    /** The parameter's tensor (a view of the flat buffer). */
    public Tensor get(String name) { return parameter(name).tensor(); }

    /** The whole flat parameter buffer (including alignment padding). */
    public Tensor values() { return values; }

    /** The whole flat gradient buffer, same layout as {@link #values()}. */
    public Tensor grads() { return grads; }

    /**
     * The optimiser groups in layout order, at most three (decay, no decay, decay); together
     * they cover the whole buffer.
     */
    public List<Range> ranges() { return ranges; }

    /** The tracked parameters: one range starting at 0 (length 0 if none). */
    public Range trackedRange() { return trackedRange; }

    /** Number of parameter elements (without padding). */
    public long count() { return parameters.stream().mapToLong(Parameter::numel).sum(); }

    /** Length of the flat buffers in elements (with padding). */
    public long length() { return values.numel(); }

    /** A view of {@code range} in a buffer of this layout (values, grads, or an optimiser state). */
    public static Tensor slice(Tensor flat, Range range) { return flat.view(range.offset(), Shape.of((int) range.length())); }

    /**
     * Turns gradient recording for every parameter on or off. A teacher runs frozen, so that its
     * forward pass inside the student's taped step records nothing.
     */
    public void requiresGrad(boolean on) {
        for (Parameter p : parameters) p.tensor().setRequiresGrad(on);
    }

    /** Zeroes every gradient: one fill over the flat gradient buffer. */
    public void zeroGrads() { device.ops().fill(grads, 0); }

    /** Parameter values by name, in layout order (for checkpoints). */
    public Map<String, double[]> stateDict() {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Parameter p : parameters) out.put(p.name(), p.tensor().toDoubles());
        return out;
    }

    /**
     * Loads values saved by {@link #stateDict()}. Every parameter must be present with the right
     * size, and no unknown names may appear; {@code source} names the origin in errors.
     */
    public void loadStateDict(Map<String, double[]> state, String source) {
        Set<String> unknown = new HashSet<>(state.keySet());
        unknown.removeAll(byName.keySet());
        if (!unknown.isEmpty()) throw new IllegalArgumentException(source + ": unknown parameters " + unknown);
        for (Parameter p : parameters) {
            double[] v = state.get(p.name());
            if (v == null) throw new IllegalArgumentException(source + ": parameter " + p.name() + " missing");
            if (v.length != p.numel()) {
                throw new IllegalArgumentException(source + ": parameter " + p.name() + " has " + v.length
                        + " values, expected " + p.numel() + " for shape " + p.shape());
            }
        }
        for (Parameter p : parameters) p.tensor().copyFrom(state.get(p.name()));
        refreshWorking();
    }

    /**
     * True if {@code other} lays out its tracked parameters exactly as this store does (same
     * names, shapes and offsets), so that an EMA over the tracked ranges pairs them correctly.
     */
    public boolean sameTrackedLayout(ParameterStore other) {
        if (trackedRange.length() != other.trackedRange.length()) return false;
        for (Parameter p : parameters) {
            if (!p.tracked()) continue;
            Parameter q = other.byName.get(p.name());
            if (q == null || !q.tracked() || q.offset() != p.offset() || !q.shape().equals(p.shape())) return false;
        }
        return true;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        valueBuffer.close();
        gradBuffer.close();
        if (workingBuffer != null) workingBuffer.close();
    }

    /**
     * Collects declarations. {@link #child} gives a view that prefixes names ("blocks.0.attn.")
     * and can mark everything declared through it as tracked; all views share one list.
     */
    public static final class Builder {
        /** What every view of one builder shares. */
        private static final class Declarations {
            final List<Parameter> list = new ArrayList<>();
            final Set<String> names = new HashSet<>();
            BiPredicate<String, Shape> decayPolicy = Builder::defaultDecay;
            boolean built;
        }

        private final Declarations declarations;
        private final String prefix;
        private final boolean tracked;

        private Builder() { this(new Declarations(), "", false); }

        private Builder(Declarations declarations, String prefix, boolean tracked) {
            this.declarations = declarations;
            this.prefix = prefix;
            this.tracked = tracked;
        }

        /** fairseq's rule (docs/algorithm.md §8): no decay for 1-D parameters, biases and ALiBi scales. */
        public static boolean defaultDecay(String name, Shape shape) {
            return shape.rank() > 1 && !name.endsWith(".bias") && !name.equals("bias") && !name.contains("alibi_scale");
        }

        /** Replaces the rule deciding weight decay for declarations that do not say (all views). */
        public Builder decayPolicy(BiPredicate<String, Shape> policy) {
            declarations.decayPolicy = policy;
            return this;
        }

        /** A view whose declarations are named {@code prefix + name + "." + ...}. */
        public Builder child(String name) { return new Builder(declarations, prefix + name + ".", tracked); }

        /** A view (same prefix) whose declarations are EMA-tracked or not. */
        public Builder tracked(boolean t) { return new Builder(declarations, prefix, t); }

        public String prefix() { return prefix; }

        /** Declares a parameter; weight decay follows the policy. */
        public Parameter declare(String name, Shape shape, Init init) {
            return declare(name, shape, init, declarations.decayPolicy.test(prefix + name, shape));
        }

        /** Declares a parameter with an explicit weight-decay flag. */
        public Parameter declare(String name, Shape shape, Init init, boolean decay) {
            String full = prefix + name;
            if (declarations.built) throw new IllegalStateException("parameter '" + full + "' declared after build");
            if (!declarations.names.add(full)) throw new IllegalArgumentException("parameter '" + full + "' declared twice");
            if (shape.numel() < 1) throw new IllegalArgumentException("parameter '" + full + "' is empty: " + shape);
            Parameter p = new Parameter(full, shape, init, decay, tracked);
            declarations.list.add(p);
            return p;
        }

        /** Allocates both flat buffers once and initialises every parameter from {@code seed}. */
        public ParameterStore build(Device device, DType dtype, long seed) { return build(device, dtype, dtype, seed); }

        /**
         * Masters (and gradients) in {@code dtype}; with {@code working} ≠ dtype also a working copy
         * in {@code working} (BF16 over F32 masters: docs/precision.md).
         */
        public ParameterStore build(Device device, DType dtype, DType working, long seed) {
            if (!dtype.isFloating()) throw new IllegalArgumentException("parameters must be floating point, got " + dtype);
            if (working != dtype && working != DType.BF16) {
                throw new IllegalArgumentException("a working copy of " + dtype + " parameters is BF16, not " + working);
            }
            if (dtype == DType.BF16) throw new IllegalArgumentException("master weights are F32 (or F64), not BF16: bf16 is a working copy");
            // Parameters bind to the store they were built into; a second model needs its own builder.
            if (declarations.built) throw new IllegalStateException("this builder already built its ParameterStore");
            declarations.built = true;
            return new ParameterStore(device, dtype, working, List.copyOf(declarations.list), seed);
        }

        public ParameterStore build(Device device, DType dtype) { return build(device, dtype, 0); }
    }
}

package org.d2v.backend.kernel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.d2v.backend.Device;

/**
 * The fast variants of one device's op set, and the one place that decides when each runs. Per op,
 * the variants are tried in order of preference (those {@link #register}ed later by a backend or a
 * test before the built-in ones); the first that is available on the device, whose preconditions
 * the call meets, and whose self-check passed, runs the call; otherwise the portable kernels do.
 *
 * <p><b>Self-check</b>: the first time a process wants a variant on a device (a device is its API
 * and name: a second device object on the same GPU reuses the outcome), {@link SelfCheck} runs it
 * and its portable twin on the op's {@link SelfCheckCases}, and a variant that disagrees beyond
 * its precision, throws, or fits none of the cases is disabled for the rest of the process, with
 * the reason printed once to stderr and kept for {@code d2v info}.
 *
 * <p>{@value #PROPERTY}{@code =off} (or {@link #setEnabled}) runs the portable kernels only: the
 * side-by-side benchmarks, and a way out should a variant misbehave where its check passed.
 */
public final class FastVariants implements AutoCloseable {
    /** System property: auto (default: fast variants where they apply and pass their check) or off. */
    public static final String PROPERTY = "d2v.fastVariants";

    /** Where a variant stands on a device. */
    public enum State {
        /** its self-check passed: it runs every call it applies to */
        ACTIVE,
        /** its self-check failed or threw: never used in this process */
        DISABLED,
        /** available, not needed yet (the check runs at the first call it applies to) */
        UNTRIED,
        /** this device cannot run it (capability, library) */
        UNAVAILABLE
    }

    /** One line of {@code d2v info}: the variant, its op and twin, its state, and the reason or the check's figures. */
    public record Status(String variant, String op, String twin, State state, String reason, int cases, long nanos) {
        public String describe() {
            String what = switch (state) {
                case ACTIVE -> String.format(Locale.ROOT, "active (self-check: %d case%s, %.1f ms)", cases, cases == 1 ? "" : "s", nanos / 1e6);
                case DISABLED -> "disabled: " + reason;
                case UNTRIED -> "untried";
                case UNAVAILABLE -> "unavailable: " + reason;
            };
            // columns as wide as the longest op and variant names (instanceNormBackward, norm_vec/instance_norm_backward_vec_bf16)
            return String.format(Locale.ROOT, "%-20s %-41s %s [portable: %s]", op, variant, what, twin);
        }
    }

    /** Outcomes of the checks run in this process, by device and variant ("api: device name" + NUL + variant). */
    private static final Map<String, SelfCheck.Result> CHECKED = new ConcurrentHashMap<>();
    /** How many times each (device, variant) was checked: tests hold it to once. */
    private static final Map<String, Integer> CHECK_RUNS = new ConcurrentHashMap<>();

    /** A registered variant, why it cannot run here (null: it can), and its key in {@code CHECKED} (built once: ran() reads it on every op). */
    private record Entry(FastVariant<?> variant, String unavailable, String key) {}

    private final KernelOps ops;
    private final String deviceKey;
    private final Map<Class<? extends FastCall>, List<Entry>> byOp = new LinkedHashMap<>();
    private final List<Entry> all = new ArrayList<>();
    private boolean enabled;
    /** True while a self-check runs the twin: every call goes to the portable kernels. */
    private boolean portableOnly;

    FastVariants(KernelOps ops, List<FastVariant<?>> builtIn) {
        String setting = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        if (!setting.equals("auto") && !setting.equals("off")) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + setting + ": expected auto or off");
        }
        this.enabled = setting.equals("auto");
        this.ops = ops;
        this.deviceKey = ops.runtime().api() + ": " + ops.runtime().device().name();
        for (FastVariant<?> v : builtIn) add(v, false);
    }

    /**
     * Adds a variant ahead of those already there for its op (a backend's library path before the
     * built-in kernels, a test's variant before both). Names are unique per device.
     */
    public void register(FastVariant<?> variant) { add(variant, true); }

    /** Adds several, ahead of those already there, in the order given (the first preferred). */
    public void register(List<FastVariant<?>> variants) {
        for (int i = variants.size() - 1; i >= 0; i--) add(variants.get(i), true);
    }

    private void add(FastVariant<?> v, boolean first) {
        for (Entry e : all) {
            if (e.variant().name().equals(v.name())) throw new IllegalArgumentException("fast variant " + v.name() + " is registered twice");
        }
        String why;
        try {
            why = v.unavailable();
        } catch (RuntimeException | LinkageError e) {
            why = "its probe threw " + e;
        }
        Entry entry = new Entry(v, why, deviceKey + '\0' + v.name());
        List<Entry> list = byOp.computeIfAbsent(v.op(), k -> new ArrayList<>());
        if (first) list.add(0, entry);
        else list.add(entry);
        all.add(entry);
    }

    /** Turns every fast variant of this device off (portable kernels only) or back on. */
    public void setEnabled(boolean on) { enabled = on; }

    public boolean enabled() { return enabled; }

    /**
     * The hook of each op in {@link KernelOps}: runs {@code call} through the first fast variant that
     * may take it (self-checking it first if it is untried) and returns true, or returns false for
     * the portable kernels to run it.
     */
    public boolean ran(FastCall call) {
        if (!enabled || portableOnly) return false;
        List<Entry> list = byOp.get(call.getClass());
        if (list == null) return false;
        for (Entry e : list) {
            if (e.unavailable() != null) continue;
            SelfCheck.Result checked = CHECKED.get(e.key());
            if (checked != null && !checked.passed()) continue;
            if (inapplicable(e.variant(), call) != null) continue;
            if (checked == null && !check(e).passed()) continue;
            runOn(e.variant(), call);
            return true;
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static <C extends FastCall> String inapplicable(FastVariant<C> v, FastCall call) { return v.inapplicable((C) call); }

    @SuppressWarnings("unchecked")
    private static <C extends FastCall> void runOn(FastVariant<C> v, FastCall call) { v.run((C) call); }

    /** Runs the self-check of {@code e} unless this process already has its outcome on this device. */
    private SelfCheck.Result check(Entry e) {
        synchronized (CHECKED) {
            SelfCheck.Result r = CHECKED.get(e.key());
            if (r != null) return r;
            Device device = ops.runtime().device();
            r = SelfCheck.run(e.variant(), device, this::portable);
            CHECKED.put(e.key(), r);
            CHECK_RUNS.merge(e.key(), 1, Integer::sum);
            if (!r.passed()) {
                System.err.println("d2v: fast variant " + e.variant().name() + " (" + FastCall.opName(e.variant().op()) + ") disabled on "
                        + deviceKey + ": " + r.reason() + "; the portable kernels (" + e.variant().twin() + ") run instead");
            }
            return r;
        }
    }

    /** Runs {@code call} on the portable kernels only. */
    private void portable(FastCall call) {
        boolean was = portableOnly;
        portableOnly = true;
        try {
            call.on(ops);
        } finally {
            portableOnly = was;
        }
    }

    /** Self-checks every available variant not checked yet on this device (d2v info --self-check, the device check). */
    public List<Status> selfCheckAll() {
        for (Entry e : all) if (e.unavailable() == null) check(e);
        return statuses();
    }

    /** Every variant of this device, in order of op and preference. */
    public List<Status> statuses() {
        List<Status> out = new ArrayList<>();
        for (List<Entry> list : byOp.values()) {
            for (Entry e : list) {
                FastVariant<?> v = e.variant();
                String op = FastCall.opName(v.op());
                SelfCheck.Result r = CHECKED.get(e.key());
                if (e.unavailable() != null) out.add(new Status(v.name(), op, v.twin(), State.UNAVAILABLE, e.unavailable(), 0, 0));
                else if (r == null) out.add(new Status(v.name(), op, v.twin(), State.UNTRIED, null, 0, 0));
                else out.add(new Status(v.name(), op, v.twin(), r.passed() ? State.ACTIVE : State.DISABLED, r.reason(), r.cases(), r.nanos()));
            }
        }
        return out;
    }

    /** The status of the variant called {@code name} on this device. */
    public Status status(String name) {
        return statuses().stream().filter(s -> s.variant().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no fast variant " + name + " on " + deviceKey));
    }

    /** How many times this process self-checked the variant {@code name} on this device (0 or 1). */
    public int checksRun(String name) { return CHECK_RUNS.getOrDefault(deviceKey + '\0' + name, 0); }

    /** {@code d2v info}'s lines: a heading, then one line per variant. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        List<Status> st = statuses();
        lines.add("fast variants on " + deviceKey + ": " + (st.isEmpty() ? "none (the portable kernels serve every op)"
                : st.size() + " variants" + (enabled ? "" : ", all off (-D" + PROPERTY + "=off)")));
        for (Status s : st) lines.add("  " + s.describe());
        return lines;
    }

    /** The fast variants of {@code device}, as {@link #describe()}; a device without kernel ops has none. */
    public static List<String> describe(Device device) {
        if (device.ops() instanceof KernelOps k) return k.fast().describe();
        return List.of("fast variants on " + device.name() + ": none (not a kernel backend)");
    }

    /**
     * {@code d2v info}'s section: the fast variants of every available kernel backend's device
     * (opened for the purpose and closed again), self-checked first when {@code selfCheck}. Never
     * throws: a device that fails to open or check is a line saying why.
     */
    public static List<String> report(boolean selfCheck) {
        List<String> lines = new ArrayList<>();
        for (org.d2v.backend.Backend b : org.d2v.backend.Backends.all()) {
            if (!b.probe().available()) continue;
            try (Device d = b.open()) {
                if (!(d.ops() instanceof KernelOps k)) continue;
                if (selfCheck) k.fast().selfCheckAll();
                lines.addAll(k.fast().describe());
            } catch (RuntimeException | LinkageError e) {
                lines.add("fast variants on " + b.name() + ": not listed, the device failed: " + e);
            }
        }
        return lines;
    }

    @Override
    public void close() {
        for (Entry e : all) e.variant().close();
    }
}

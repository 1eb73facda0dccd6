package org.d2v.backend.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.d2v.tensor.Tensor;

/**
 * What every {@link KernelRuntime} does around a launch, written once for OpenCL and CUDA:
 * <ul>
 *   <li>before: the Java arguments are checked against the kernel's declaration
 *       ({@link KernelSignatures}), so a wrong launch fails here, naming the kernel, the argument,
 *       the parameter and both types, instead of reading garbage on the device;</li>
 *   <li>after: the kernel is recorded as launched (per runtime and for the whole JVM, so that the
 *       test suite can list the declared kernels no test launches), and in the sync-debug mode
 *       the runtime waits for it, so a kernel that faults is reported with its arguments instead
 *       of surfacing later, blamed on an unrelated copy or free.</li>
 * </ul>
 * The sync-debug mode is on when the environment variable {@value #SYNC_DEBUG_ENV} is 1 (or
 * true/yes) when the runtime opens, or after {@link #setSyncDebug(boolean)}. It makes every launch
 * wait for the device: for finding a fault, never for training.
 */
public final class LaunchChecks {
    public static final String SYNC_DEBUG_ENV = "D2V_SYNC_DEBUG";
    /**
     * System property: a file that receives, when the JVM exits, the kernels launched in it (one
     * "program/kernel" a line). The test suite sets it, and KernelCoverageTest lists the declared
     * kernels no test launched. An old file is deleted when the first runtime opens, so a run that
     * dies leaves none behind.
     */
    public static final String LAUNCH_LOG_PROPERTY = "d2v.launchLog";

    private static final Set<String> LAUNCHED_IN_THIS_JVM = ConcurrentHashMap.newKeySet();

    static {
        String log = System.getProperty(LAUNCH_LOG_PROPERTY);
        if (log != null && !log.isBlank()) {
            Path file = Path.of(log);
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new UncheckedIOException("-D" + LAUNCH_LOG_PROPERTY + "=" + log + ": cannot remove the old log", e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> writeLaunchLog(file), "d2v-launch-log"));
        }
    }

    /** Writes the launched kernels atomically (a temporary file moved into place). */
    private static void writeLaunchLog(Path file) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, launchedInThisJvm());
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            System.err.println("d2v: writing the launch log " + file + " failed: " + e.getMessage());
        }
    }

    private final String api;
    private final Set<String> launched = ConcurrentHashMap.newKeySet();
    private volatile boolean syncDebug;
    private volatile Consumer<String> afterDebugSync = kernel -> {};

    /** For the runtime of {@code api} ("opencl", "cuda"), with the sync-debug mode as {@value #SYNC_DEBUG_ENV} says. */
    public LaunchChecks(String api) { this(api, System.getenv(SYNC_DEBUG_ENV)); }

    LaunchChecks(String api, String syncDebugSetting) {
        this.api = api;
        this.syncDebug = parseFlag(syncDebugSetting);
    }

    static boolean parseFlag(String value) {
        if (value == null) return false;
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "", "0", "false", "no", "off" -> false;
            case "1", "true", "yes", "on" -> true;
            default -> throw new IllegalArgumentException(SYNC_DEBUG_ENV + "=" + value + ": expected 1 (on) or 0 (off)");
        };
    }

    public boolean syncDebug() { return syncDebug; }

    /** Turns the sync-debug mode on or off for this runtime (tests, or a debugger at hand). */
    public void setSyncDebug(boolean on) { syncDebug = on; }

    /** Called with "program/kernel" after each launch the sync-debug mode waited for (tests count them). */
    public void afterDebugSync(Consumer<String> hook) { afterDebugSync = hook == null ? kernel -> {} : hook; }

    /** Checks the arguments of a launch against the kernel's declaration; returns it with the launch's flavour. */
    public KernelSignatures.Launch before(String program, String kernel, Object[] args) {
        return KernelSignatures.check(program, kernel, args);
    }

    /**
     * After the runtime queued the launch: records it, and in the sync-debug mode waits for it
     * through {@code synchronize}, turning a failure into one that names the kernel and its arguments.
     */
    public void after(KernelSignatures.Launch launch, long[] global, long[] local, Object[] args, Runnable synchronize) {
        String name = launch.qualifiedName();
        if (!launched.contains(name)) { // a read, not a write, on every launch after the first
            launched.add(name);
            LAUNCHED_IN_THIS_JVM.add(name);
        }
        if (!syncDebug) return;
        try {
            synchronize.run();
        } catch (RuntimeException e) {
            throw new IllegalStateException(api + " (" + SYNC_DEBUG_ENV + "): kernel " + describe(launch, global, local, args)
                    + " failed: " + e.getMessage(), e);
        }
        afterDebugSync.accept(name);
    }

    /** The bytes of the tensors among a launch's arguments: Σ elements × dtype size (RuntimeCounters#tensorBytes). */
    public static long tensorBytes(Object[] args) {
        long bytes = 0;
        for (Object a : args) if (a instanceof Tensor t) bytes += t.numel() * t.dtype().bytes();
        return bytes;
    }

    /** The kernels this runtime launched, as "program/kernel" ("program/kernel@bf16" in a bf16 flavour). */
    public Set<String> launched() { return Collections.unmodifiableSet(new TreeSet<>(launched)); }

    /**
     * Records a launch that ran outside the runtimes: the host emulator of the CUDA-only kernels
     * (tests) runs them on the CPU, and the coverage check counts those runs.
     */
    public static void recordEmulated(String program, String kernel) { LAUNCHED_IN_THIS_JVM.add(program + "/" + kernel); }

    /** The kernels every runtime of this JVM launched, as "program/kernel". */
    public static Set<String> launchedInThisJvm() { return Collections.unmodifiableSet(new TreeSet<>(LAUNCHED_IN_THIS_JVM)); }

    /**
     * A launch as text for error messages: {@code program/kernel(name=value, ...)} with each tensor's
     * dtype, shape, element offset and buffer length, then the work sizes.
     */
    public static String describe(KernelSignatures.Launch launch, long[] global, long[] local, Object[] args) {
        KernelSignatures.Signature signature = launch.signature();
        StringBuilder s = new StringBuilder(launch.qualifiedName()).append('(');
        for (int i = 0; i < args.length; i++) {
            if (i > 0) s.append(", ");
            s.append(i < signature.params().size() ? signature.params().get(i).name() : "extra" + i).append('=');
            Object a = args[i];
            if (a instanceof Tensor t) {
                s.append(t.dtype()).append(t.shape()).append('@').append(t.offset()).append(" of ").append(t.buffer().length());
            } else {
                s.append(a);
            }
        }
        return s.append(") global ").append(Arrays.toString(global)).append(" local ").append(Arrays.toString(local)).toString();
    }
}

package org.d2v.cli;

import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code d2v info}: the backends found, what each probe saw, and what "auto" picks. */
@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "List backends and devices, and which one 'auto' picks. Probes every backend (never crashes without a driver) "
                + "and prints what it found.")
public final class InfoCommand extends CliCommand {
    @Option(names = "--self-check", description = "Run the self-check of every fast variant (CUDA-only kernels, cuBLASLt) now, "
            + "instead of at its first use, and list the outcomes.")
    boolean selfCheck;

    @Override
    public Integer call() {
        for (Backend b : Backends.all()) {
            Backend.Probe p = b.probe();
            System.out.printf("%-10s %-12s %s%n", b.name(), p.available() ? "available" : "unavailable", p.detail());
        }
        System.out.println("auto -> " + Backends.auto().name());
        // d2v's own JNI libraries (native/) and the vendor libraries they open: cuBLASLt, NCCL, MPI.
        for (String line : org.d2v.jni.NativeInfo.lines()) System.out.println(line);
        System.out.println(org.d2v.backend.cuda.CudnnProbe.describe());
        // each fast variant: active, disabled (why), untried or unavailable (why)
        for (String line : org.d2v.backend.kernel.FastVariants.report(selfCheck)) System.out.println(line);
        return Cli.OK;
    }
}

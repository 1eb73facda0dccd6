package org.d2v.cli;

import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import picocli.CommandLine.Command;

/** {@code d2v info}: the backends found, what each probe saw, and what "auto" picks. */
@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "List backends and devices, and which one 'auto' picks. Probes every backend (never crashes without a driver) "
                + "and prints what it found.")
public final class InfoCommand extends CliCommand {
    @Override
    public Integer call() {
        for (Backend b : Backends.all()) {
            Backend.Probe p = b.probe();
            System.out.printf("%-10s %-12s %s%n", b.name(), p.available() ? "available" : "unavailable", p.detail());
        }
        System.out.println("auto -> " + Backends.auto().name());
        // d2v's own JNI libraries (native/) and the vendor libraries they open: cuBLASLt, NCCL, MPI.
        for (String line : org.d2v.jni.NativeInfo.lines()) System.out.println(line);
        return Cli.OK;
    }
}

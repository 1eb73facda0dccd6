package org.d2v.cli;

import org.d2v.backend.Backend;
import org.d2v.backend.Backends;

/** {@code d2v info}: the backends found, what each probe saw, and what "auto" picks. */
public final class InfoCommand implements Command {
    @Override public String name() { return "info"; }

    @Override public String summary() { return "list backends and devices, and which one 'auto' picks"; }

    @Override
    public int run(String[] args) {
        if (args.length > 0 && args[0].equals("--help")) {
            System.out.println("usage: d2v info\n\nProbes every backend (never crashes without a driver) and prints what it found.");
            return 0;
        }
        for (Backend b : Backends.all()) {
            Backend.Probe p = b.probe();
            System.out.printf("%-10s %-12s %s%n", b.name(), p.available() ? "available" : "unavailable", p.detail());
        }
        System.out.println("auto -> " + Backends.auto().name());
        return 0;
    }
}

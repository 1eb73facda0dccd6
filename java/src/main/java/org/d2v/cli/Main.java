package org.d2v.cli;

import org.d2v.backend.Backend;
import org.d2v.backend.Backends;

/** The {@code d2v} command. */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        String cmd = args.length == 0 ? "help" : args[0];
        switch (cmd) {
            case "info" -> info();
            default -> {
                System.out.println("usage: d2v <command>\n\ncommands:\n  info    list backends and devices, and which one 'auto' picks");
                if (!cmd.equals("help")) System.exit(2);
            }
        }
    }

    private static void info() {
        for (Backend b : Backends.all()) {
            Backend.Probe p = b.probe();
            System.out.printf("%-10s %-13s %s%n", b.name(), p.available() ? "available" : "unavailable", p.detail());
        }
        System.out.println("auto -> " + Backends.auto().name());
    }
}

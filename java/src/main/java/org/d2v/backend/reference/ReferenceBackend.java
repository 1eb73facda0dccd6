package org.d2v.backend.reference;

import org.d2v.backend.Backend;
import org.d2v.backend.Device;

/** The pure-Java backend: always available, the oracle for every kernel. */
public final class ReferenceBackend implements Backend {
    @Override public String name() { return "reference"; }

    @Override public int priority() { return 100; }

    @Override public Probe probe() {
        return Probe.yes("pure Java, " + Runtime.getRuntime().availableProcessors() + " threads");
    }

    @Override public Device open() { return new ReferenceDevice(); }
}

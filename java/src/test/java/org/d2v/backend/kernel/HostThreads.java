package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.jni.OpenBlas;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For the threaded copies of the host-kernel tests ({@code @ExtendWith(HostThreads.class)} on a
 * subclass of the one-thread test): two pool threads and every split threshold at zero, so that each
 * host kernel that can be cut splits even at the tests' small, awkward sizes; afterwards the
 * configured pool comes back, and at least one run must have gone through the pool (a test that
 * never reached the threaded path would prove nothing). Where libd2v_cpu or OpenBLAS is absent
 * nothing is forced and the tests skip as their parents do.
 */
public final class HostThreads implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(HostThreads.class);

    /** The pool's run count before the class, when the split was forced. */
    private record Forced(long runsBefore) {}

    @Override
    public void beforeAll(ExtensionContext context) {
        long runsBefore = OpenBlas.pooledRuns();
        if (OpenBlas.configureHostThreads(2, 0.0)) context.getStore(NS).put(Forced.class, new Forced(runsBefore));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        OpenBlas.restoreHostThreads();
        Forced f = context.getStore(NS).remove(Forced.class, Forced.class);
        if (f != null) assertTrue(OpenBlas.pooledRuns() > f.runsBefore(), "no host kernel ran split over the pool");
    }
}

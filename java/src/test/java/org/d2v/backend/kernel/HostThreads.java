package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.jni.OpenBlas;

/**
 * For the threaded copies of the host-kernel tests: two pool threads and every split threshold at
 * zero, so that each host kernel that can be cut splits even at the tests' small, awkward sizes;
 * afterwards the configured pool comes back, and at least one run must have gone through the pool
 * (a test that never reached the threaded path would prove nothing).
 */
public final class HostThreads {
    private long runsBefore;

    /** Forces the split; false where libd2v_cpu or OpenBLAS is absent (the tests then skip as their parents do). */
    public boolean force() {
        runsBefore = OpenBlas.pooledRuns();
        return OpenBlas.configureHostThreads(2, 0.0);
    }

    /** Restores the configured pool and checks that the threaded path ran. */
    public void restoreAndCheck(boolean forced) {
        OpenBlas.restoreHostThreads();
        if (forced) assertTrue(OpenBlas.pooledRuns() > runsBefore, "no host kernel ran split over the pool");
    }
}

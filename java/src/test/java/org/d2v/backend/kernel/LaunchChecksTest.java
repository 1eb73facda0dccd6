package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The sync-debug mode and launch record both runtimes share, with a stand-in for the device's wait. */
class LaunchChecksTest {

    @Test
    void theSettingReadsLikeAFlag() {
        assertFalse(new LaunchChecks("t", null).syncDebug());
        assertFalse(new LaunchChecks("t", "0").syncDebug());
        assertTrue(new LaunchChecks("t", "1").syncDebug());
        assertTrue(new LaunchChecks("t", " TRUE ").syncDebug());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LaunchChecks("t", "sometimes"));
        assertEquals("D2V_SYNC_DEBUG=sometimes: expected 1 (on) or 0 (off)", e.getMessage());
    }

    @Test
    void aFailedWaitNamesTheKernelAndEveryArgument() {
        try (ReferenceDevice dev = new ReferenceDevice(DType.F64); Tensor whole = Tensor.zeros(dev, DType.F32, 64)) {
            Tensor x = whole.view(8, Shape.of(4, 5));
            LaunchChecks checks = new LaunchChecks("opencl", "1");
            Object[] args = {20, x, 0.5f};
            KernelSignatures.Launch sig = checks.before("elementwise", "fill", args);
            RuntimeException fault = new IllegalStateException("CL_OUT_OF_RESOURCES");
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> checks.after(sig, new long[] {256}, new long[] {256}, args, () -> { throw fault; }));
            assertEquals("opencl (D2V_SYNC_DEBUG): kernel elementwise/fill(n=20, x=F32[4, 5]@8 of 64, value=0.5)"
                    + " global [256] local [256] failed: CL_OUT_OF_RESOURCES", e.getMessage());
            assertSame(fault, e.getCause());
        }
    }

    @Test
    void waitsOnlyWhenOnAndRecordsEveryLaunch() {
        LaunchChecks checks = new LaunchChecks("cuda", "0");
        List<String> waits = new ArrayList<>(), synced = new ArrayList<>();
        checks.afterDebugSync(synced::add);
        Object[] args = {1, null, 0f};
        KernelSignatures.Launch sig = checks.before("elementwise", "fill", args);
        checks.after(sig, new long[] {1}, new long[] {1}, args, () -> waits.add("wait"));
        assertEquals(List.of(), waits);
        checks.setSyncDebug(true);
        checks.after(sig, new long[] {1}, new long[] {1}, args, () -> waits.add("wait"));
        assertEquals(List.of("wait"), waits);
        assertEquals(List.of("elementwise/fill"), synced);
        assertEquals(java.util.Set.of("elementwise/fill"), checks.launched());
        assertTrue(LaunchChecks.launchedInThisJvm().contains("elementwise/fill"));
    }
}

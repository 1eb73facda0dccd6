package org.d2v.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import org.d2v.backend.kernel.KernelTestBase;
import org.d2v.backend.kernel.KernelVariants;
import org.d2v.jni.OpenBlas;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The check the host paths rest on (OpenBlasGemm.unavailableOn): a native kernel finds each of
 * its buffers at its own operand when they are listed in creation order, and the check says so;
 * given a false creation order (so that PoCL 3.1 mis-assigns them), the same check fails. Without
 * OpenBLAS the class skips, except in CI, where that fails.
 */
class NativeKernelAddressCheckTest {
    @Test
    void theCheckPassesInCreationOrderAndCatchesAnotherOrder() {
        try (OpenClDevice device = (OpenClDevice) KernelTestBase.openOrSkip("opencl", KernelVariants.Shape.AUTO)) {
            OpenClRuntime rt = runtime(device);
            String why = OpenBlasGemm.unavailableOn(rt);
            if (why != null) {
                if ("true".equals(System.getenv("CI"))) fail("the host paths must run in CI: " + why);
                Assumptions.abort("host paths unavailable: " + why);
            }
            assertEquals(1.0, check(device, rt, false), "buffers listed in creation order reach their operands");
            // Mis-assigned, the kernel reads the wrong markers and writes its verdict (0) into whichever
            // buffer it took for A: the one read back then holds 0 or its untouched -1, never 1.
            assertNotEquals(1.0, check(device, rt, true), "a wrong order is caught by the same check");
            assertNull(OpenBlasGemm.unavailableOn(rt));
        }
    }

    /** Runs the probe on three fresh buffers; {@code lie} hands the native side swapped creation orders. */
    private static double check(OpenClDevice device, OpenClRuntime rt, boolean lie) {
        DeviceBuffer[] b = new DeviceBuffer[3];
        try {
            for (int i = 0; i < 3; i++) b[i] = device.allocate(DType.F32, 2);
            device.upload(b[0], 0, new double[] {1, -1});
            device.upload(b[1], 0, new double[] {2, -1});
            device.upload(b[2], 0, new double[] {3, -1});
            Tensor a = Tensor.view(b[0], 0, Shape.of(2)), bb = Tensor.view(b[1], 0, Shape.of(2)), c = Tensor.view(b[2], 0, Shape.of(2));
            long[] mems = {OpenBlasGemm.mem(a), OpenBlasGemm.mem(bb), 0, OpenBlasGemm.mem(c), 0};
            long oa = rt.creationOrder(a), ob = rt.creationOrder(bb), oc = rt.creationOrder(c);
            long[] order = lie ? new long[] {oc, ob, 0, oa, 0} : new long[] {oa, ob, 0, oc, 0};
            rt.enqueueNative(() -> "address check (test)", 24, queue -> OpenBlas.enqueueProbe(queue, mems, order, new long[5]));
            double[] verdict = new double[2];
            device.download(b[0], 0, verdict);
            return verdict[1];
        } finally {
            for (DeviceBuffer x : b) if (x != null) x.close();
        }
    }

    private static OpenClRuntime runtime(OpenClDevice device) { return device.runtime(); }
}

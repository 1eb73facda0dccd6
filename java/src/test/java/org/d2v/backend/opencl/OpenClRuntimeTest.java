package org.d2v.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.Backend;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.backend.kernel.DeviceCapabilities;
import org.d2v.backend.kernel.KernelOps;
import org.d2v.backend.kernel.KernelRuntime;
import org.d2v.backend.kernel.KernelTestBase;
import org.d2v.backend.kernel.KernelVariants;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The OpenCL runtime's contract: discovery, errors that say what went wrong, memory accounting. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClRuntimeTest {
    private Device dev;
    private KernelRuntime rt;

    @BeforeAll
    void open() {
        dev = KernelTestBase.openOrSkip("opencl");
        rt = ((KernelOps) dev.ops()).runtime();
    }

    @AfterAll
    void close() { if (dev != null) dev.close(); }

    @Test
    void backendIsDiscoveredWithItsPriority() {
        Backend b = Backends.find("opencl");
        assertEquals(200, b.priority());
        Backend.Probe p = b.probe();
        assertTrue(p.available());
        assertTrue(dev.name().startsWith("opencl: "), dev.name());
        assertTrue(p.detail().contains(dev.name().substring("opencl: ".length())), p.detail() + " / " + dev.name());
        assertEquals("opencl", rt.api());
        assertTrue(rt.maxWorkGroupSize() >= 256);
    }

    @Test
    void capabilitiesComeFromTheDeviceAndChooseTheShape() {
        DeviceCapabilities c = rt.capabilities();
        assertTrue(c.maxWorkGroupSize() >= 256 && c.localMemoryBytes() >= 32 << 10 && c.subgroupWidth() >= 1
                && c.computeUnits() >= 1, c.toString());
        if (dev.name().contains("Portable Computing Language")) assertEquals(DeviceCapabilities.Kind.CPU, c.kind(), dev.name());
        KernelVariants auto = ((KernelOps) dev.ops()).variants();
        assertEquals(KernelVariants.Shape.AUTO, auto.requested());
        assertEquals(c.kind() == DeviceCapabilities.Kind.CPU, auto.noneTiled(), auto.describe());
        assertEquals(c.kind() != DeviceCapabilities.Kind.CPU, auto.allTiled(), auto.describe());
    }

    @Test
    void buildFailureShowsProgramAndCompilerLog() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> rt.launch("broken_for_test", "broken",
                new long[] {1}, new long[] {1}, 1, null));
        assertTrue(e.getMessage().contains("kernels/broken_for_test.cl"), e.getMessage());
        assertTrue(e.getMessage().contains("CL_BUILD_PROGRAM_FAILURE"), e.getMessage());
        assertTrue(e.getMessage().contains("undeclared_symbol_for_test"), "the compiler log is shown: " + e.getMessage());
    }

    @Test
    void unknownKernelAndBadArgumentsAreNamed() {
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> rt.launch("elementwise", "no_such_kernel", new long[] {1}, new long[] {1}));
        assertTrue(missing.getMessage().contains("no_such_kernel") && missing.getMessage().contains("elementwise"),
                missing.getMessage());
        try (Tensor t = Tensor.empty(dev, DType.F32, 4)) {
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> rt.launch("elementwise", "fill", new long[] {256}, new long[] {256}, 4, t, 1.0));
            assertTrue(bad.getMessage().contains("Double"), bad.getMessage());
            IllegalStateException wrongCount = assertThrows(IllegalStateException.class,
                    () -> rt.launch("elementwise", "fill", new long[] {256}, new long[] {256}, 4, t));
            assertTrue(wrongCount.getMessage().contains("CL_INVALID_KERNEL_ARGS"), wrongCount.getMessage());
        }
    }

    @Test
    void onlyF32AndI32() {
        assertThrows(IllegalArgumentException.class, () -> dev.allocate(DType.F64, 4));
        try (Tensor ints = Tensor.zeros(dev, DType.I32, 4); Tensor out = Tensor.empty(dev, DType.F32, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dev.ops().gelu(ints, out));
            assertTrue(e.getMessage().contains("F32"), e.getMessage());
            dev.ops().fill(ints, 7);
            assertEquals(7, ints.toInts()[3]);
        }
    }

    @Test
    void bytesInUseReturnsToBaseline() {
        long before = dev.bytesInUse();
        Tensor a = Tensor.empty(dev, DType.F32, 1000);
        Tensor b = Tensor.empty(dev, DType.I32, 10);
        assertEquals(before + 4040, dev.bytesInUse());
        a.close();
        b.close();
        b.close(); // closing twice is harmless
        assertEquals(before, dev.bytesInUse());
    }

    @Test
    void deviceChoiceByDescription() {
        java.util.List<OpenClRuntime.Found> found = OpenClRuntime.discover();
        assertEquals(found.get(0), OpenClBackend.choose(found, null));
        OpenClRuntime.Found last = found.get(found.size() - 1);
        assertEquals(last.description(), OpenClBackend.choose(found, last.description().toUpperCase()).description());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> OpenClBackend.choose(found, "no-such-device-xyz"));
        assertTrue(e.getMessage().contains("D2V_OPENCL_DEVICE") && e.getMessage().contains(last.description()), e.getMessage());
    }
}

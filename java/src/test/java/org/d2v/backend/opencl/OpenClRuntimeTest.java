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
import org.d2v.backend.kernel.LaunchChecks;
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
    void unknownKernelIsNamed() {
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> rt.launch("elementwise", "no_such_kernel", new long[] {1}, new long[] {1}));
        assertTrue(missing.getMessage().contains("no_such_kernel") && missing.getMessage().contains("elementwise.cl"),
                missing.getMessage());
    }

    /** A launch that does not fit the kernel's declaration fails before the driver sees it; the message says where and how. */
    private String wrongLaunch(String program, String kernel, long n, Object... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> rt.launch(program, kernel, new long[] {n}, new long[] {n}, args));
        System.out.println("caught: " + e.getMessage());
        assertTrue(e.getMessage().contains("kernel " + program + "/" + kernel + " (kernels/" + program + ".cl)"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void wrongLaunchesAreCaughtWithKernelPositionParameterAndTypes() {
        try (Tensor f = Tensor.zeros(dev, DType.F32, 256); Tensor i = Tensor.zeros(dev, DType.I32, 256)) {
            assertTrue(wrongLaunch("elementwise", "fill", 256, 256, f)
                    .endsWith("takes 3 arguments [n, x, value], launched with 2"));
            assertTrue(wrongLaunch("elementwise", "fill", 256, 256, f, 1f, 5)
                    .endsWith("takes 3 arguments [n, x, value], launched with 4"));
            assertTrue(wrongLaunch("random", "uniform", 256, 256, f, 7, 0L)
                    .endsWith("argument 3 of 4 'seed' is declared I64 seed, which takes a Long; got Integer 7"));
            assertTrue(wrongLaunch("elementwise", "fill_int", 256, 256, i, 7f)
                    .endsWith("argument 3 of 3 'value' is declared int value, which takes an Integer; got Float 7.0"));
            assertTrue(wrongLaunch("elementwise", "fill_int", 256, 256, f, 7)
                    .endsWith("argument 2 of 3 'x' is declared GLOBAL int *x, which takes a Tensor or null of [I32]; got a F32 tensor [256]"));
            assertTrue(wrongLaunch("elementwise", "fill", 256, 256L, f, 1f)
                    .endsWith("argument 1 of 3 'n' is declared int n, which takes an Integer; got Long 256"));
            assertTrue(wrongLaunch("elementwise", "fill", 256, 256, f, 1.0)
                    .endsWith("argument 3 of 3 'value' is declared float value, which takes a Float; got Double 1.0"));
            assertTrue(wrongLaunch("gemm", "gemm", 256, 1, 1, 1, 0, 0, 1, 1, 1, f, f, null, f, null, 0, 0, 0, 0.0f)
                    .endsWith("argument 17 of 17 'accumulate' is declared int accumulate, which takes an Integer; got Float 0.0"));
            // nothing reached the device: the buffers are untouched, and the runtime launches on
            rt.launch("elementwise", "fill_int", new long[] {256}, new long[] {256}, 256, i, 3);
            assertEquals(0.0, f.toDoubles()[0]);
            assertEquals(3, i.toInts()[255]);
        }
    }

    @Test
    void aFailedEnqueueNamesTheKernelAndItsArguments() {
        try (Tensor t = Tensor.empty(dev, DType.F32, 100)) {
            // 100 work-items in groups of 64: OpenCL 1.2 rejects the launch (CL_INVALID_WORK_GROUP_SIZE)
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> rt.launch("elementwise", "fill", new long[] {100}, new long[] {64}, 100, t, 2f));
            System.out.println("caught: " + e.getMessage());
            assertTrue(e.getMessage().contains("elementwise/fill(n=100, x=F32[100]@0 of 100, value=2.0) global [100] local [64]")
                    && e.getMessage().contains("CL_INVALID_WORK_GROUP_SIZE"), e.getMessage());
        }
    }

    @Test
    void syncDebugWaitsAfterEveryLaunch() {
        java.util.List<String> synced = new java.util.ArrayList<>();
        LaunchChecks checks = rt.launchChecks();
        boolean before = checks.syncDebug();
        checks.afterDebugSync(synced::add);
        try (Tensor x = Tensor.empty(dev, DType.F32, 1000); Tensor y = Tensor.empty(dev, DType.F32, 1000);
             Tensor s = Tensor.empty(dev, DType.F32, 1)) {
            checks.setSyncDebug(false);
            dev.ops().fill(x, 2.0);
            assertEquals(java.util.List.of(), synced, "off: no waiting");
            checks.setSyncDebug(true);
            dev.ops().fill(x, 0.5);
            dev.ops().copy(x, y);
            dev.ops().sum(y, s);
            String partial = ((org.d2v.backend.kernel.KernelOps) dev.ops()).variants()
                    .tiled(org.d2v.backend.kernel.KernelVariants.Tiled.REDUCTION) ? "reduce/partial_sum" : "reduce/partial_sum_chunks";
            assertEquals(java.util.List.of("elementwise/fill", "elementwise/copy", partial, "reduce/finish_sum"),
                    synced, "one wait after each launch, in order");
            assertEquals(500.0, s.toDoubles()[0], 1e-3);
        } finally {
            checks.setSyncDebug(before);
            checks.afterDebugSync(null);
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

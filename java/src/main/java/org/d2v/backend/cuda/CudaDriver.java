package org.d2v.backend.cuda;

import static jcuda.driver.CUdevice_attribute.*;
import static jcuda.driver.JCudaDriver.*;

import java.nio.charset.StandardCharsets;
import jcuda.CudaException;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * What the CUDA driver says about the GPU this process opens ({@link CudaOrdinal}: device 0, or the
 * local rank's under mpirun/srun), read once. Every call into JCuda may throw an Error
 * (UnsatisfiedLinkError when libcuda.so.1 is absent), so only {@link #detect()} touches the driver
 * and it turns any Throwable into a reason.
 */
record CudaDriver(int ordinal, String deviceName, int major, int minor, int multiprocessors, long totalMemory,
                  int driverVersion, int clockKhz, int memoryClockKhz, int memoryBusBits, int maxThreadsPerBlock) {

    /** The driver's answer, or why there is none ("no CUDA driver: …" or "CUDA driver present but unusable: …"). */
    record Detected(CudaDriver driver, String reason) {
        boolean found() { return driver != null; }
    }

    private static Detected detected;

    /** Probes the driver the first time and remembers the outcome (a failed load cannot be retried anyway). */
    static synchronized Detected detect() {
        if (detected == null) detected = probe();
        return detected;
    }

    private static Detected probe() {
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) return new Detected(null, "CUDA driver present but unusable: it reports no device");
            int ordinal;
            try {
                ordinal = CudaOrdinal.choose(count[0], System.getenv());
            } catch (IllegalArgumentException e) {
                return new Detected(null, "CUDA driver present but no GPU for this process: " + e.getMessage());
            }
            CUdevice dev = new CUdevice();
            cuDeviceGet(dev, ordinal);
            byte[] name = new byte[256];
            cuDeviceGetName(name, name.length, dev);
            long[] mem = new long[1];
            cuDeviceTotalMem(mem, dev);
            int[] version = new int[1];
            cuDriverGetVersion(version);
            return new Detected(new CudaDriver(ordinal, cString(name), attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                    attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                    attribute(dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), mem[0], version[0],
                    attribute(dev, CU_DEVICE_ATTRIBUTE_CLOCK_RATE), attribute(dev, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE),
                    attribute(dev, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH),
                    attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK)), null);
        } catch (CudaException e) { // the driver loaded and answered with an error, e.g. CUDA_ERROR_NO_DEVICE
            return new Detected(null, "CUDA driver present but unusable: " + firstLine(e.getMessage()));
        } catch (Throwable t) { // UnsatisfiedLinkError without libcuda.so.1 (or with one JCuda cannot bind)
            return new Detected(null, "no CUDA driver: " + t.getClass().getSimpleName() + ": " + firstLine(t.getMessage()));
        }
    }

    private static int attribute(CUdevice dev, int attribute) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attribute, dev);
        return v[0];
    }

    static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8).trim();
    }

    static String firstLine(String s) {
        if (s == null) return "(no message)";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** "sm_90" */
    String arch() { return "sm_" + major + minor; }

    /** "13.0" from 13000. */
    String driverVersionString() { return driverVersion / 1000 + "." + driverVersion % 1000 / 10; }

    /** Peak DRAM bandwidth from the memory clock and bus width (double data rate), in GB/s. */
    double peakBandwidthGBs() { return 2.0 * memoryClockKhz * 1e3 * (memoryBusBits / 8.0) / 1e9; }

    String describe() {
        return String.format("%s%s (%s, %d SMs, %.1f GiB, driver %s)", ordinal == 0 ? "" : "GPU " + ordinal + ": ", deviceName, arch(), multiprocessors,
                totalMemory / (double) (1L << 30), driverVersionString());
    }
}

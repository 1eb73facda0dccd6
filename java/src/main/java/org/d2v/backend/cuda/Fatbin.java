package org.d2v.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * What an nvcc fatbin holds: machine code (SASS, in ELF cubins) for some architectures and PTX for
 * others. Read from the container's headers (little-endian: magic 0xBA55ED50, then one header per
 * entry with its kind, version and target architecture) so the probe can tell, before loading
 * anything, whether this GPU and driver can run the kernels.
 */
record Fatbin(List<Entry> entries) {
    private static final int MAGIC = 0xBA55ED50;

    /** One image: SASS for exactly {@code arch} (e.g. 90 for sm_90), or PTX of ISA {@code major.minor} for compute_{@code arch}. */
    record Entry(boolean ptx, int arch, int major, int minor) {
        @Override public String toString() {
            return ptx ? "PTX " + major + "." + minor + " compute_" + arch : "SASS sm_" + arch;
        }
    }

    static Fatbin parse(byte[] image, String name) {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (image.length < 16 || b.getInt(0) != MAGIC) {
            throw new IllegalArgumentException(name + " is not an nvcc fatbin (no 0xBA55ED50 magic)");
        }
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long end = headerSize + b.getLong(8);
        if (end > image.length) throw new IllegalArgumentException(name + " is truncated: " + image.length + " of " + end + " bytes");
        List<Entry> entries = new ArrayList<>();
        for (long at = headerSize; at + 32 <= end; ) {
            int p = (int) at;
            int kind = Short.toUnsignedInt(b.getShort(p));
            long size = Integer.toUnsignedLong(b.getInt(p + 4)) + b.getLong(p + 8);
            if (kind == 1 || kind == 2) {
                entries.add(new Entry(kind == 1, b.getInt(p + 28), Short.toUnsignedInt(b.getShort(p + 26)),
                        Short.toUnsignedInt(b.getShort(p + 24))));
            }
            if (size <= 0) throw new IllegalArgumentException(name + ": corrupt entry header at byte " + at);
            at += size;
        }
        return new Fatbin(List.copyOf(entries));
    }

    /**
     * Why a GPU of compute capability {@code major.minor} with driver {@code driverVersion} (e.g. 13000)
     * cannot run this fatbin, or null when it can: SASS built for the same major version and an
     * equal or lower minor runs as is; otherwise PTX for an equal or lower architecture is JIT-compiled,
     * which needs a driver that knows its ISA (PTX 8.x: CUDA 12.x, 9.x: CUDA 13.x).
     */
    String unsupportedReason(int major, int minor, int driverVersion) {
        int arch = major * 10 + minor;
        for (Entry e : entries) if (!e.ptx() && e.arch() / 10 == major && e.arch() <= arch) return null;
        String driverNeeded = null;
        for (Entry e : entries) {
            if (!e.ptx() || e.arch() > arch) continue;
            int needed = (e.major() + 4) * 1000 + e.minor() * 10;
            if (driverVersion >= needed) return null;
            driverNeeded = (needed / 1000) + "." + (needed % 1000 / 10);
        }
        String gpu = "GPU sm_" + arch;
        if (driverNeeded != null) {
            return gpu + " has no SASS in the kernels, and their PTX needs a CUDA " + driverNeeded
                    + " driver (this one is " + driverVersion / 1000 + "." + driverVersion % 1000 / 10 + ")";
        }
        return gpu + " can run none of the kernel images " + entries;
    }
}

package org.d2v.backend;

/**
 * What a device can hold, in the units of {@link Device#bytesInUse()} (bytes of the tensors' own
 * dtypes), as its driver reports it: {@code total} memory, {@code free} memory now (−1: not known),
 * the largest single buffer {@code maxAllocation}, and {@code source}, the query it came from
 * (CL_DEVICE_GLOBAL_MEM_SIZE, cuMemGetInfo, the JVM heap). Used to refuse a run that cannot fit
 * before its first step.
 */
public record DeviceMemory(long total, long free, long maxAllocation, String source) {
    /** A device that does not say (every check passes). */
    public static final DeviceMemory UNKNOWN = new DeviceMemory(Long.MAX_VALUE, -1, Long.MAX_VALUE, "not reported");

    public boolean known() { return total != Long.MAX_VALUE; }
}

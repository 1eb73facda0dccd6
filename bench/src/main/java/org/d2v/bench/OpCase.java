package org.d2v.bench;

import org.d2v.backend.Device;

/**
 * One benchmarked operation at one preset's shapes: what it launches and how much work that is,
 * so that time turns into GB/s and GFLOP/s.
 */
public interface OpCase {
    String name();

    /** Allocates inputs on {@code device} (in the caller's Scope) and returns the launch. */
    Prepared prepare(Device device, Preset preset);

    /**
     * @param launch one call of the op (the harness synchronises after it)
     * @param bytes  the minimum bytes the op must move (inputs read once, outputs written once)
     * @param flops  floating-point operations (0 where the op is pure data movement)
     */
    record Prepared(Runnable launch, double bytes, double flops) {}
}

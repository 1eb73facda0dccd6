package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Presets;
import org.d2v.tensor.DType;
import org.junit.jupiter.api.Test;

/** The precision policy: names, auto, and bad input naming the option, the device and the precision. */
class PrecisionTest {
    @Test
    void namesAndTheReferenceBackend() {
        try (ReferenceDevice ref = new ReferenceDevice()) {
            assertEquals(Precision.FP32, Precision.resolve("fp32", ref, "--precision"));
            assertEquals(Precision.BF16, Precision.resolve("BF16", ref, "--precision"), "the reference emulates bf16 rounding");
            assertEquals(Precision.FP32, Precision.resolve("auto", ref, "--precision"), "auto: the reference is only slower in bf16");
            assertEquals("bf16", Precision.BF16.id());
            assertEquals("f64", Precision.of(DType.F64).id());
            String e = assertThrows(IllegalArgumentException.class, () -> Precision.resolve("fp16", ref, "--precision:")).getMessage();
            assertEquals("--precision: fp16: expected fp32, bf16 or auto", e);
        }
        assertThrows(IllegalArgumentException.class, () -> new Precision(DType.BF16, DType.BF16), "bf16 masters");
        assertThrows(IllegalArgumentException.class, () -> new Precision(DType.F32, DType.F64), "activations wider than the masters");
    }

    /** A device that cannot hold bf16 (the dry-run device computes nothing) is refused with both named, before any model exists. */
    @Test
    void bf16OnADeviceThatCannotIsAClearError() {
        try (DryRunDevice dry = new DryRunDevice()) {
            String e = assertThrows(IllegalArgumentException.class, () -> new Data2Vec(dry, Presets.imageMicro(), Precision.BF16)).getMessage();
            assertTrue(e.contains("precision bf16 is not available on dry run (no memory)"), e);
        }
    }
}

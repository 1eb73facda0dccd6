package org.d2v.backend.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.d2v.backend.AttentionDesc;
import org.d2v.backend.Device;
import org.d2v.backend.MatmulDesc;
import org.d2v.backend.NormDesc;
import org.d2v.testing.Approx;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The float32 path: the same ops on F32 tensors store float-rounded results within float rounding
 * of the float64 results on the same (float-representable) inputs.
 */
class ReferenceF32Test extends ReferenceTestBase {
    private static final double FLOAT_TOLERANCE = 1e-6; // a few float ulps, norm-wise

    /** Random values that are exactly representable as floats, so both paths see the same inputs. */
    private double[] floats(int n) {
        double[] v = rand.uniform(n, -1, 1);
        for (int i = 0; i < n; i++) v[i] = (float) v[i];
        return v;
    }

    private static void assertAllFloats(double[] v, String what) {
        for (double e : v) assertEquals((double) (float) e, e, 0, what + " stores float-rounded values");
    }

    @Test
    void matmulAndLayerNormMatchFloat64() {
        try (ReferenceDevice f32 = new ReferenceDevice(DType.F32)) {
            double[] a = floats(7 * 9), b = floats(9 * 5), bias = floats(5);
            double[][] results = new double[2][];
            double[][] normed = new double[2][];
            Device[] devices = {dev, f32};
            DType[] types = {DType.F64, DType.F32};
            for (int k = 0; k < 2; k++) {
                Device d = devices[k];
                DType t = types[k];
                Tensor c = Tensor.empty(d, t, 7, 5);
                d.ops().matmul(MatmulDesc.of(7, 5, 9), Tensor.of(d, t, Shape.of(7, 9), a), Tensor.of(d, t, Shape.of(9, 5), b),
                        Tensor.of(d, t, Shape.of(5), bias), c, null, false);
                results[k] = c.toDoubles();
                Tensor y = Tensor.empty(d, t, 7, 5);
                d.ops().layerNorm(new NormDesc(7, 5, 1e-5), c, null, null, y, Tensor.empty(d, t, 7), Tensor.empty(d, t, 7));
                normed[k] = y.toDoubles();
            }
            assertAllFloats(results[1], "F32 matmul");
            assertAllFloats(normed[1], "F32 layerNorm");
            Approx.assertClose(results[0], results[1], FLOAT_TOLERANCE, "F32 matmul vs F64");
            Approx.assertClose(normed[0], normed[1], FLOAT_TOLERANCE, "F32 layerNorm vs F64");
        }
    }

    @Test
    void attentionMatchesFloat64() {
        try (ReferenceDevice f32 = new ReferenceDevice(DType.F32)) {
            AttentionDesc desc = AttentionDesc.of(3, 5, 3, 2);
            double[] qkv = floats(3 * 5 * 3 * 3 * 2);
            double[][] outs = new double[2][];
            Device[] devices = {dev, f32};
            DType[] types = {DType.F64, DType.F32};
            for (int k = 0; k < 2; k++) {
                Device d = devices[k];
                Tensor out = Tensor.empty(d, types[k], 3, 5, 3, 2);
                d.ops().attention(desc, Tensor.of(d, types[k], Shape.of(3, 5, 3, 3, 2), qkv), null, null, null, null,
                        out, Tensor.empty(d, types[k], 3, 3, 5));
                outs[k] = out.toDoubles();
            }
            assertAllFloats(outs[1], "F32 attention");
            Approx.assertClose(outs[0], outs[1], FLOAT_TOLERANCE, "F32 attention vs F64");
        }
    }
}

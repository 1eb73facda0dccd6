package org.d2v.backend.reference;

import org.d2v.backend.ConvDesc;
import org.d2v.testing.Approx;
import org.d2v.testing.GradCheck;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Channels-last grouped convolution: small hand-computed examples and finite-difference gradients. */
class ReferenceConvTest extends ReferenceTestBase {

    @Test
    void conv1dGroupedStridedPaddedByHand() {
        // x [1, 5, 2] channels-last: channel 0 = 1 2 3 4 5, channel 1 = 1 0 -1 0 1.
        // groups = 2, k = 3, stride 2, pad 1: windows start at −1, 1, 3.
        Tensor x = of(new double[] {1, 1, 2, 0, 3, -1, 4, 0, 5, 1}, 1, 5, 2);
        Tensor w = of(new double[] {1, 0, -1, 2, 1, 0}, 2, 3, 1); // oc 0: [1, 0, −1]; oc 1: [2, 1, 0]
        Tensor bias = of(new double[] {0.5, -1}, 2);
        Tensor y = poisoned(1, 3, 2);
        ops.conv(ConvDesc.conv1d(1, 2, 2, 5, 3, 2, 1, 2), x, w, bias, y);
        // oc 0: [0,1,2]·w0 = −2, [2,3,4]·w0 = −2, [4,5,0]·w0 = 4;  oc 1: [0,1,0]·w1 = 1, [0,−1,0]·w1 = −1, [0,1,0]·w1 = 1
        Approx.assertClose(new double[] {-1.5, 0, -1.5, -2, 4.5, 0}, y.toDoubles(), 0, "conv1d");
    }

    @Test
    void conv2dByHand() {
        Tensor x = of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 3, 3, 1);
        Tensor w = of(new double[] {1, 0, 0, -1, 0, 1, 1, 0}, 2, 2, 2, 1); // oc 0: x[i,j] − x[i+1,j+1]; oc 1: x[i,j+1] + x[i+1,j]
        Tensor y = poisoned(1, 2, 2, 2);
        ops.conv(ConvDesc.conv2d(1, 1, 2, 3, 3, 2, 1, 0, 1), x, w, null, y);
        Approx.assertClose(new double[] {-4, 6, -4, 8, -4, 12, -4, 14}, y.toDoubles(), 0, "conv2d");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "1-D k3 pad1 bias        | 3 | 4 | 6 | 1 | 7 | 1 | 3 | 1 | 1 | 0 | 1 | 1 | true",
        "1-D k4 stride2 groups2  | 3 | 4 | 6 | 1 | 9 | 1 | 4 | 1 | 2 | 0 | 2 | 2 | false",
        "2-D k3 stride2 groups3  | 2 | 3 | 6 | 5 | 5 | 3 | 3 | 2 | 2 | 1 | 1 | 3 | true",
        "2-D 2x3 mixed strides   | 1 | 2 | 4 | 4 | 5 | 2 | 3 | 1 | 2 | 0 | 1 | 1 | false",
        "2-D depthwise           | 2 | 4 | 4 | 3 | 4 | 2 | 2 | 1 | 1 | 1 | 0 | 4 | true",
    })
    void gradient(String name, int batch, int inC, int outC, int inH, int inW, int kH, int kW,
                  int strideH, int strideW, int padH, int padW, int groups, boolean withBias) {
        ConvDesc d = new ConvDesc(batch, inC, outC, inH, inW, kH, kW, strideH, strideW, padH, padW, groups);
        Tensor x = random(batch, inH, inW, inC), w = random(outC, kH, kW, d.inPerGroup());
        Tensor bias = withBias ? random(outC) : null;
        Tensor y = zeros(batch, d.outH(), d.outW(), outC);
        Tensor dx = zeros(batch, inH, inW, inC), dw = zeros(outC, kH, kW, d.inPerGroup()), dbias = zeros(outC);
        double[] weights = weights(y);
        GradCheck check = GradCheck.of(grads -> {
            ops.conv(d, x, w, bias, y);
            if (grads) {
                Tensor dy = of(weights, batch, d.outH(), d.outW(), outC);
                ops.convBackwardInput(d, dy, w, dx, false);
                ops.convBackwardWeight(d, x, dy, dw, withBias ? dbias : null);
            }
            return GradCheck.dot(y, weights);
        }).wrt("x", x, dx).wrt("w", w, dw);
        if (withBias) check.wrt("bias", bias, dbias);
        check.check();
    }
}

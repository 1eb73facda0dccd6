package org.d2v.backend;

/**
 * Grouped 2-D convolution, channels-last (tokens × channels is how the model holds activations,
 * so no transposes are needed around the decoders). x [batch, inH, inW, inC],
 * w [outC, kH, kW, inC/groups], bias [outC], y [batch, outH, outW, outC]. A 1-D convolution is the
 * case inH = kH = 1 (padH = 0, strideH = 1).
 */
public record ConvDesc(int batch, int inC, int outC, int inH, int inW, int kH, int kW,
                       int strideH, int strideW, int padH, int padW, int groups) {
    public ConvDesc {
        if (groups < 1 || inC % groups != 0 || outC % groups != 0) {
            throw new IllegalArgumentException("channels " + inC + "->" + outC + " not divisible by groups " + groups);
        }
        if (outH(inH, kH, strideH, padH) < 1 || outH(inW, kW, strideW, padW) < 1) {
            throw new IllegalArgumentException("convolution output would be empty");
        }
    }

    private static int outH(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

    public static ConvDesc conv1d(int batch, int inC, int outC, int length, int k, int stride, int pad, int groups) {
        return new ConvDesc(batch, inC, outC, 1, length, 1, k, 1, stride, 0, pad, groups);
    }

    public static ConvDesc conv2d(int batch, int inC, int outC, int h, int w, int k, int stride, int pad, int groups) {
        return new ConvDesc(batch, inC, outC, h, w, k, k, stride, stride, pad, pad, groups);
    }

    public int outH() { return outH(inH, kH, strideH, padH); }

    public int outW() { return outH(inW, kW, strideW, padW); }

    public int inPerGroup() { return inC / groups; }

    public int outPerGroup() { return outC / groups; }

    public long flops() { return 2L * batch * outH() * outW() * outC * (long) kH * kW * inPerGroup(); }
}

package org.d2v.nn;

import org.d2v.autograd.F;
import org.d2v.backend.ConvDesc;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * Grouped 2-D convolution, channels-last: x [batch, h, w, inC] → [batch, h', w', outC], weight
 * [outC, k, k, inC/groups]. PyTorch's default init U(±1/√fanIn) unless told otherwise.
 */
public final class Conv2d extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int inC, outC, k, stride, pad, groups;

    public Conv2d(ParameterStore.Builder b, int inC, int outC, int k, int stride, int pad, int groups, boolean bias) {
        this(b, inC, outC, k, stride, pad, groups, bias, Init.pytorchDefault(inC / groups * k * k));
    }

    public Conv2d(ParameterStore.Builder b, int inC, int outC, int k, int stride, int pad, int groups, boolean bias, Init weightInit) {
        if (groups < 1 || inC % groups != 0 || outC % groups != 0) {
            throw new IllegalArgumentException("Conv2d " + b.prefix() + ": channels " + inC + "->" + outC + " not divisible by groups " + groups);
        }
        this.inC = inC;
        this.outC = outC;
        this.k = k;
        this.stride = stride;
        this.pad = pad;
        this.groups = groups;
        this.weight = b.declare("weight", Shape.of(outC, k, k, inC / groups), weightInit);
        this.bias = bias ? b.declare("bias", Shape.of(outC), Init.pytorchDefault(inC / groups * k * k)) : null;
    }

    public Tensor forward(Tensor x) {
        if (x.shape().rank() != 4 || x.dim(3) != inC) throw new IllegalArgumentException("Conv2d wants [batch, h, w, " + inC + "], got " + x.shape());
        ConvDesc d = ConvDesc.conv2d(x.dim(0), inC, outC, x.dim(1), x.dim(2), k, stride, pad, groups);
        return F.conv(d, x, weight.compute(), bias == null ? null : bias.tensor());
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }
}

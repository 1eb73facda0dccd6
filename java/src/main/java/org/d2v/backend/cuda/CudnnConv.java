package org.d2v.backend.cuda;

import static jcuda.jcudnn.JCudnn.*;
import static jcuda.jcudnn.cudnnConvolutionMode.CUDNN_CROSS_CORRELATION;
import static jcuda.jcudnn.cudnnDataType.CUDNN_DATA_FLOAT;
import static jcuda.jcudnn.cudnnMathType.CUDNN_FMA_MATH;
import static jcuda.jcudnn.cudnnTensorFormat.CUDNN_TENSOR_NHWC;

import jcuda.Pointer;
import jcuda.jcudnn.JCudnn;
import jcuda.jcudnn.cudnnConvolutionDescriptor;
import jcuda.jcudnn.cudnnConvolutionFwdAlgoPerf;
import jcuda.jcudnn.cudnnFilterDescriptor;
import jcuda.jcudnn.cudnnHandle;
import jcuda.jcudnn.cudnnTensorDescriptor;
import jcuda.runtime.cudaStream_t;
import org.d2v.backend.ConvDesc;
import org.d2v.tensor.DType;
import org.d2v.tensor.DeviceBuffer;
import org.d2v.tensor.Tensor;

/**
 * cuDNN's grouped convolution forward on a {@link CudaDevice}'s stream, in d2v's layouts (x
 * [B, H, W, Cin] and y [B, Ho, Wo, Cout] NHWC, w [Cout, kH, kW, Cin/G], which cuDNN's NHWC filter
 * format reads as K, R, S, C), fp32 with FMA math (no TF32, like the kernels), the algorithm
 * cuDNN's heuristic ranks first. A peer for the benchmarks only, where JCudnn loads
 * ({@link CudnnProbe}); no op uses it. Not run on a GPU: no machine of this project has had
 * cuDNN 8.
 */
public final class CudnnConv implements AutoCloseable {
    private final CudaDevice device;
    private final cudnnHandle handle = new cudnnHandle();
    private final cudnnTensorDescriptor xDesc = new cudnnTensorDescriptor(), yDesc = new cudnnTensorDescriptor();
    private final cudnnFilterDescriptor wDesc = new cudnnFilterDescriptor();
    private final cudnnConvolutionDescriptor convDesc = new cudnnConvolutionDescriptor();
    private final int algo;
    private final long workspaceBytes;
    private final DeviceBuffer workspace;
    private final Pointer one = Pointer.to(new float[] {1f}), zero = Pointer.to(new float[] {0f});

    /** Plans d's forward on {@code device}; IllegalStateException with the reason where JCudnn does not load. */
    public CudnnConv(CudaDevice device, ConvDesc d) {
        String why = CudnnProbe.unavailableReason();
        if (why != null) throw new IllegalStateException("cuDNN: " + why);
        this.device = device;
        JCudnn.setExceptionsEnabled(true);
        device.runtime().makeCurrent();
        cudnnCreate(handle);
        cudnnSetStream(handle, new cudaStream_t(device.runtime().stream()));
        cudnnCreateTensorDescriptor(xDesc);
        cudnnCreateTensorDescriptor(yDesc);
        cudnnCreateFilterDescriptor(wDesc);
        cudnnCreateConvolutionDescriptor(convDesc);
        cudnnSetTensor4dDescriptor(xDesc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, d.batch(), d.inC(), d.inH(), d.inW());
        cudnnSetTensor4dDescriptor(yDesc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, d.batch(), d.outC(), d.outH(), d.outW());
        cudnnSetFilter4dDescriptor(wDesc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, d.outC(), d.inPerGroup(), d.kH(), d.kW());
        cudnnSetConvolution2dDescriptor(convDesc, d.padH(), d.padW(), d.strideH(), d.strideW(), 1, 1, CUDNN_CROSS_CORRELATION,
                CUDNN_DATA_FLOAT);
        cudnnSetConvolutionGroupCount(convDesc, d.groups());
        cudnnSetConvolutionMathType(convDesc, CUDNN_FMA_MATH);
        cudnnConvolutionFwdAlgoPerf[] perf = {new cudnnConvolutionFwdAlgoPerf()};
        int[] returned = new int[1];
        cudnnGetConvolutionForwardAlgorithm_v7(handle, xDesc, wDesc, convDesc, yDesc, 1, returned, perf);
        this.algo = perf[0].algo;
        long[] bytes = new long[1];
        cudnnGetConvolutionForwardWorkspaceSize(handle, xDesc, wDesc, convDesc, yDesc, algo, bytes);
        this.workspaceBytes = bytes[0];
        this.workspace = bytes[0] > 0 ? device.allocate(DType.F32, (bytes[0] + 3) / 4) : null;
    }

    /** cuDNN's name of the algorithm it chose. */
    public String algorithm() { return jcuda.jcudnn.cudnnConvolutionFwdAlgo.stringFor(algo); }

    /** Queues y = conv(x, w) (no bias). */
    public void forward(Tensor x, Tensor w, Tensor y) {
        device.runtime().makeCurrent();
        cudnnConvolutionForward(handle, one, xDesc, pointer(x), wDesc, pointer(w), convDesc, algo,
                workspace == null ? new Pointer() : pointer(Tensor.view(workspace, 0, org.d2v.tensor.Shape.of(1))), workspaceBytes,
                zero, yDesc, pointer(y));
    }

    private static Pointer pointer(Tensor t) { return ((CudaBuffer) t.buffer()).pointer().withByteOffset(4L * t.offset()); }

    @Override
    public void close() {
        device.runtime().makeCurrent();
        cudnnDestroyConvolutionDescriptor(convDesc);
        cudnnDestroyFilterDescriptor(wDesc);
        cudnnDestroyTensorDescriptor(yDesc);
        cudnnDestroyTensorDescriptor(xDesc);
        cudnnDestroy(handle);
        if (workspace != null) workspace.close();
    }
}

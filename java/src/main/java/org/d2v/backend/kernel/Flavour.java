package org.d2v.backend.kernel;

import org.d2v.tensor.DType;

/**
 * A storage flavour of a kernel program (kernels/d2v.h): which dtype its {@code ACT *} pointers
 * (activations) and {@code OUT *} pointers (a GEMM's result) hold. Every program is compiled once
 * per flavour it uses, from ONE kernel text (OpenCL: {@link #defines()} as build options at run
 * time; CUDA: the fatbin {@link #fatbinName(String)} built by kernels/build.sh). A launch runs in
 * the flavour its tensors ask for ({@link KernelSignatures.Signature#flavour}).
 */
public enum Flavour {
    F32("f32", DType.F32, DType.F32, ""),
    BF16("bf16", DType.BF16, DType.BF16, "-DD2V_ACT_BF16"),
    /** bf16 operands, fp32 result: a bf16 product accumulating into fp32 parameter gradients. */
    BF16_F32("bf16-f32", DType.BF16, DType.F32, "-DD2V_ACT_BF16 -DD2V_OUT_F32");

    private final String id;
    private final DType act;
    private final DType out;
    private final String defines;

    Flavour(String id, DType act, DType out, String defines) {
        this.id = id;
        this.act = act;
        this.out = out;
        this.defines = defines;
    }

    /** "f32", "bf16", "bf16-f32": the suffix of program and launch names outside f32. */
    public String id() { return id; }

    /** The dtype of the program's ACT tensors. */
    public DType act() { return act; }

    /** The dtype of the program's OUT tensors. */
    public DType out() { return out; }

    /** The preprocessor definitions that select this flavour (OpenCL build options, nvcc flags). */
    public String defines() { return defines; }

    /** "gemm" in f32, "gemm.bf16" in bf16: the name of the program's fatbin in this flavour. */
    public String fatbinName(String program) { return this == F32 ? program : program + "." + id; }

    /** "gemm/gemm_dot" in f32, "gemm/gemm_dot@bf16" otherwise: how launch logs and errors name a kernel. */
    public String qualify(String qualifiedKernel) { return this == F32 ? qualifiedKernel : qualifiedKernel + "@" + id; }

    /**
     * The flavour for ACT tensors of {@code act} and OUT tensors of {@code out} (null: none passed);
     * null when no flavour stores that pair (then the launch is refused, naming both).
     */
    static Flavour of(DType act, DType out) {
        DType a = act != null ? act : out != null ? out : DType.F32;
        DType o = out != null ? out : a;
        for (Flavour f : values()) if (f.act == a && f.out == o) return f;
        return null;
    }
}

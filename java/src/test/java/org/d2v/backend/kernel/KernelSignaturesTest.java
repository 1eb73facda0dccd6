package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.d2v.backend.kernel.KernelSignatures.Kind;
import org.d2v.backend.kernel.KernelSignatures.Param;
import org.d2v.backend.kernel.KernelSignatures.Signature;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The parser of KERNEL declarations and the argument check, without a device. */
class KernelSignaturesTest {

    @Test
    void everyKernelOfTheRepositoryParses() throws Exception {
        int kernels = 0;
        for (String program : DeclaredKernels.programs()) {
            String file = KernelSources.fileOf(program);
            String text = Files.readString(DeclaredKernels.DIR.resolve(file));
            Map<String, Signature> parsed = KernelSignatures.program(program);
            // as many declarations as the text has "KERNEL void" outside comments
            Matcher m = Pattern.compile("\\bKERNEL\\s+void\\s+\\w+").matcher(KernelSignatures.stripComments(text));
            int declared = 0;
            while (m.find()) declared++;
            assertEquals(declared, parsed.size(), file + ": " + parsed.keySet());
            kernels += parsed.size();
        }
        assertTrue(kernels >= 50, "only " + kernels + " kernels found under " + DeclaredKernels.DIR);
    }

    @Test
    void pointersFoldTheirOffsetAndScalarsKeepTheirWidth() {
        Signature gemm = KernelSignatures.of("gemm", "gemm");
        assertEquals(List.of("M", "N", "K", "transA", "transB", "strideA", "strideB", "strideC", "A", "B", "bias", "C",
                "preact", "hasBias", "gelu", "hasPreact", "accumulate"), gemm.params().stream().map(Param::name).toList());
        assertEquals(Kind.POINTER, gemm.params().get(8).kind());
        assertEquals(KernelSignatures.Storage.ACT, gemm.params().get(8).storage(), "A is GLOBAL const ACT *");
        assertEquals(Set.of(DType.F32), gemm.params().get(8).dtypes(Flavour.F32));
        assertEquals(Set.of(DType.BF16), gemm.params().get(8).dtypes(Flavour.BF16));
        assertEquals(Set.of(DType.F32), gemm.params().get(10).dtypes(Flavour.BF16), "bias is float in every flavour");
        assertEquals(Set.of(DType.F32), gemm.params().get(11).dtypes(Flavour.BF16_F32), "C is OUT: F32 in bf16-f32");
        assertEquals(List.of(Flavour.F32, Flavour.BF16, Flavour.BF16_F32), gemm.flavours());
        assertEquals(List.of(Flavour.F32, Flavour.BF16), KernelSignatures.of("norm", "layer_norm_forward").flavours());
        assertEquals(List.of(Flavour.F32), KernelSignatures.of("reduce", "finish_sum").flavours());
        assertEquals(Set.of(DType.BF16), KernelSignatures.of("elementwise", "to_bf16").params().get(2).dtypes(),
                "BF16 pointers take BF16 tensors");
        Signature att = KernelSignatures.of("attention", "attention_forward");
        Param threshold = att.params().stream().filter(p -> p.name().equals("dropThreshold")).findFirst().orElseThrow();
        assertEquals(Kind.I64, threshold.kind());
        assertEquals(Set.of(DType.I32), att.params().get(3).dtypes(), "pos is GLOBAL const int *");
        assertEquals(Set.of(DType.F32, DType.I32), KernelSignatures.of("elementwise", "copy").params().get(1).dtypes(),
                "U32 copies move either");
    }

    private static Map<String, Signature> parse(String source) { return KernelSignatures.parse("t", "t.cl", source); }

    @Test
    void theParserReadsTheDialectAndSkipsComments() {
        Map<String, Signature> k = parse("""
                /* KERNEL void commented_out(int n) {} */
                // KERNEL void also_not(int n) {}
                KERNEL void a(int n, GLOBAL const float *x, int xo,
                              /* a comment inside */ U32 bits, U64 key, float s) { }
                KERNEL void b() { }
                """);
        assertEquals(Set.of("a", "b"), k.keySet());
        assertEquals(List.of(Kind.INT, Kind.POINTER, Kind.U32, Kind.U64, Kind.FLOAT),
                k.get("a").params().stream().map(Param::kind).toList());
        assertEquals(List.of(), k.get("b").params());
    }

    @Test
    void declarationsNoLaunchCanMatchAreErrors() {
        String noOffset = assertThrows(IllegalStateException.class,
                () -> parse("KERNEL void k(GLOBAL float *x, float v) {}")).getMessage();
        assertEquals("kernels/t.cl: kernel k pointer 'x' must be followed by its int element offset, found 'float v'", noOffset);
        String dbl = assertThrows(IllegalStateException.class, () -> parse("KERNEL void k(double v) {}")).getMessage();
        assertTrue(dbl.contains("'double v' has a type no launch can pass"), dbl);
        String local = assertThrows(IllegalStateException.class,
                () -> parse("KERNEL void k(LOCAL float *t, int to) {}")).getMessage();
        assertTrue(local.contains("local pointer"), local);
        String twice = assertThrows(IllegalStateException.class, () -> parse("KERNEL void k() {}\nKERNEL void k() {}")).getMessage();
        assertTrue(twice.contains("declares kernel k twice"), twice);
    }

    @Test
    void argumentsAreCheckedByCountKindAndDtype() {
        try (ReferenceDevice dev = new ReferenceDevice(DType.F64);
             Tensor f = Tensor.zeros(dev, DType.F32, 4); Tensor i = Tensor.zeros(dev, DType.I32, 4)) {
            Signature fill = KernelSignatures.of("elementwise", "fill");
            fill.check(new Object[] {4, f, 1f});
            fill.check(new Object[] {4, null, 1f}); // null: an optional pointer
            assertThrows(IllegalArgumentException.class, () -> fill.check(new Object[] {4, i, 1f}));
            assertThrows(IllegalArgumentException.class, () -> fill.check(new Object[] {4, f}));
            Signature copy = KernelSignatures.of("elementwise", "copy");
            copy.check(new Object[] {4, f, f});
            copy.check(new Object[] {4, i, i});
            Signature uniform = KernelSignatures.of("random", "uniform");
            uniform.check(new Object[] {4, f, 1L, 2L});
            String e = assertThrows(IllegalArgumentException.class, () -> uniform.check(new Object[] {4, f, 1L, 2}))
                    .getMessage();
            assertEquals("kernel random/uniform (kernels/random.cl): argument 4 of 4 'offset' is declared I64 offset,"
                    + " which takes a Long; got Integer 2", e);
        }
    }

    /**
     * The dtypes of a launch's ACT and OUT tensors choose its flavour; ACT tensors that disagree, a
     * pair no flavour stores, and a FIXED float pointer given a bf16 tensor are errors naming them.
     */
    @Test
    void theTensorsChooseTheFlavourAndMixturesAreNamed() {
        try (ReferenceDevice dev = new ReferenceDevice(DType.F64);
             Tensor f = Tensor.zeros(dev, DType.F32, 4); Tensor h = Tensor.zeros(dev, DType.BF16, 4)) {
            Signature add = KernelSignatures.of("elementwise", "add");
            assertEquals(Flavour.F32, add.check(new Object[] {4, f, f, f}));
            assertEquals(Flavour.BF16, add.check(new Object[] {4, h, h, h}));
            String mixed = assertThrows(IllegalArgumentException.class, () -> add.check(new Object[] {4, h, f, h})).getMessage();
            assertTrue(mixed.contains("ACT tensors must share one dtype") && mixed.contains("argument 2 'a' (BF16)")
                    && mixed.contains("argument 3 'b' (F32)"), mixed);
            Signature gemm = KernelSignatures.of("gemm", "gemm_dot");
            Object[] weightGrad = {1, 1, 4, 1, 0, 4, 4, 1, h, h, null, f, null, 0, 0, 0, 1};
            assertEquals(Flavour.BF16_F32, gemm.check(weightGrad), "bf16 operands accumulating into an fp32 gradient");
            Object[] none = {1, 1, 4, 1, 0, 4, 4, 1, f, f, null, h, null, 0, 0, 0, 0};
            String noFlavour = assertThrows(IllegalArgumentException.class, () -> gemm.check(none)).getMessage();
            assertTrue(noFlavour.contains("no flavour with activations (ACT) in F32") && noFlavour.contains("results (OUT) in BF16"),
                    noFlavour);
            Signature addBroadcast = KernelSignatures.of("elementwise", "add_broadcast");
            String fixed = assertThrows(IllegalArgumentException.class, () -> addBroadcast.check(new Object[] {4, 4, h, h, h}))
                    .getMessage();
            assertTrue(fixed.contains("argument 4 of 5 'v' is declared GLOBAL const float *v") && fixed.contains("[F32]")
                    && fixed.contains("got a BF16 tensor"), fixed);
            assertEquals("elementwise/add@bf16", new KernelSignatures.Launch(add, Flavour.BF16).qualifiedName());
            assertEquals("elementwise/add", new KernelSignatures.Launch(add, Flavour.F32).qualifiedName());
        }
    }

    @Test
    void unknownProgramsAndKernelsAreNamed() {
        String p = assertThrows(IllegalStateException.class, () -> KernelSignatures.of("no_such_program", "k")).getMessage();
        assertTrue(p.contains("no_such_program.cl (or .cu) is not on the classpath"), p);
        String k = assertThrows(IllegalStateException.class, () -> KernelSignatures.of("reduce", "nope")).getMessage();
        assertTrue(k.contains("no kernel 'nope' declared in kernels/reduce.cl") && k.contains("partial_sum"), k);
    }
}

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
        assertEquals(Set.of(DType.F32), gemm.params().get(8).dtypes());
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

    @Test
    void unknownProgramsAndKernelsAreNamed() {
        String p = assertThrows(IllegalStateException.class, () -> KernelSignatures.of("no_such_program", "k")).getMessage();
        assertTrue(p.contains("no_such_program.cl (or .cu) is not on the classpath"), p);
        String k = assertThrows(IllegalStateException.class, () -> KernelSignatures.of("reduce", "nope")).getMessage();
        assertTrue(k.contains("no kernel 'nope' declared in kernels/reduce.cl") && k.contains("partial_sum"), k);
    }
}

package org.d2v.backend.kernel;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.d2v.tensor.DType;
import org.d2v.tensor.Tensor;

/**
 * The parameter lists of the kernels, parsed from their {@code KERNEL void name(...)} declarations
 * in the sources on the classpath (the very text OpenCL compiles and nvcc compiled), so that every
 * launch's Java arguments are checked against them on both runtimes before anything reaches the
 * driver. CUDA in particular takes argument sizes from the kernel's metadata: an Integer where the
 * kernel wants a 64-bit value, or a missing argument, would read garbage without a word.
 *
 * <p>A parameter is one of: a pointer ({@code GLOBAL T *p}, always followed by its {@code int}
 * element offset, which together take one Java argument: a {@link Tensor} or null), {@code int}
 * or {@code U32} (an Integer), {@code I64} or {@code U64} (a Long), {@code float} (a Float). A
 * pointer's element type fixes the tensor's dtype: {@code float *} F32, {@code int *} I32,
 * {@code U32 *} either (32-bit copies), {@code unsigned short *} (the CUDA-only kernels' bf16
 * storage) {@link #BF16_STORAGE}.
 */
public final class KernelSignatures {
    /** What a declared parameter takes from Java. */
    public enum Kind {
        POINTER("a Tensor or null"), INT("an Integer"), U32("an Integer (its 32 bits)"), I64("a Long"),
        U64("a Long (its 64 bits)"), FLOAT("a Float");

        final String wants;

        Kind(String wants) { this.wants = wants; }
    }

    /** One Java argument's parameter: its name, what it takes, the tensor dtypes a pointer accepts, and the declaration. */
    public record Param(String name, Kind kind, Set<DType> dtypes, String declaration) {
        @Override public String toString() { return declaration; }
    }

    /** One kernel: where it is declared and its parameters, pointer + offset folded into one; qualifiedName is "program/kernel". */
    public record Signature(String program, String kernel, String file, List<Param> params, String qualifiedName) {
        Signature(String program, String kernel, String file, List<Param> params) {
            this(program, kernel, file, params, program + "/" + kernel);
        }

        /**
         * Throws IllegalArgumentException naming the kernel, the argument position (1-based, of the
         * Java arguments), the parameter and both types when {@code args} do not fit.
         */
        public void check(Object[] args) {
            if (args.length != params.size()) {
                throw new IllegalArgumentException("kernel " + qualifiedName() + " (kernels/" + file + ") takes "
                        + params.size() + " arguments " + names() + ", launched with " + args.length);
            }
            for (int i = 0; i < args.length; i++) {
                Param p = params.get(i);
                Object a = args[i];
                String problem = mismatch(p, a);
                if (problem != null) {
                    throw new IllegalArgumentException("kernel " + qualifiedName() + " (kernels/" + file + "): argument "
                            + (i + 1) + " of " + args.length + " '" + p.name() + "' is declared " + p.declaration()
                            + ", which takes " + p.kind().wants + (p.kind() == Kind.POINTER ? " of " + p.dtypes() : "")
                            + "; got " + problem);
                }
            }
        }

        private List<String> names() { return params.stream().map(Param::name).toList(); }
    }

    /** Why {@code a} does not fit {@code p} ("an I32 tensor [4]", "Integer 3"), or null when it does. */
    private static String mismatch(Param p, Object a) {
        boolean fits = switch (p.kind()) {
            case POINTER -> a == null || (a instanceof Tensor t && p.dtypes().contains(t.dtype()));
            case INT, U32 -> a instanceof Integer;
            case I64, U64 -> a instanceof Long;
            case FLOAT -> a instanceof Float;
        };
        if (fits) return null;
        if (a == null) return "null";
        if (a instanceof Tensor t) return "a " + t.dtype() + " tensor " + t.shape();
        return a.getClass().getSimpleName() + " " + a;
    }

    /**
     * The dtypes a bf16 pointer ({@code unsigned short *}) takes: the tensor layer's BF16 once it has
     * one, none before (no launch can pass a bf16 tensor yet, and the check says so). Looked up by
     * name so that this parser needs no change when the dtype arrives.
     */
    static final Set<DType> BF16_STORAGE = java.util.Arrays.stream(DType.values()).filter(t -> t.name().equals("BF16"))
            .collect(java.util.stream.Collectors.toUnmodifiableSet());

    private static final Map<String, Map<String, Signature>> BY_PROGRAM = new ConcurrentHashMap<>();

    private KernelSignatures() {}

    /** The signature of {@code program/kernel}; IllegalStateException when the source declares no such kernel. */
    public static Signature of(String program, String kernel) {
        Signature s = program(program).get(kernel);
        if (s == null) {
            throw new IllegalStateException("no kernel '" + kernel + "' declared in kernels/" + KernelSources.fileOf(program)
                    + " (declared: " + program(program).keySet() + ")");
        }
        return s;
    }

    /** Checks {@code args} against the declaration of {@code program/kernel} and returns it. */
    public static Signature check(String program, String kernel, Object[] args) {
        Signature s = of(program, kernel);
        s.check(args);
        return s;
    }

    /** Every kernel {@code program} declares, in source order. */
    public static Map<String, Signature> program(String program) {
        return BY_PROGRAM.computeIfAbsent(program, p -> {
            String file = KernelSources.fileOf(p);
            return parse(p, file, KernelSources.read(file));
        });
    }

    private static final Pattern KERNEL = Pattern.compile("\\bKERNEL\\s+void\\s+(\\w+)\\s*\\(");
    private static final Pattern NAME = Pattern.compile("(\\w+)\\s*$");
    private static final Set<String> QUALIFIERS = Set.of("GLOBAL", "CONSTANT", "const", "restrict", "__restrict__",
            "__global", "__constant", "global", "constant", "volatile");

    /** The kernels declared in {@code source} (the text of kernels/{@code file}); a clear error for a parameter no launch can pass. */
    public static Map<String, Signature> parse(String program, String file, String source) {
        String text = stripComments(source);
        Map<String, Signature> kernels = new LinkedHashMap<>();
        Matcher m = KERNEL.matcher(text);
        while (m.find()) {
            String kernel = m.group(1);
            int open = m.end(), close = text.indexOf(')', open);
            if (close < 0) throw new IllegalStateException("kernels/" + file + ": kernel " + kernel + " has no closing ')'");
            String list = text.substring(open, close).trim();
            List<String> raw = list.isEmpty() ? List.of() : List.of(list.split(","));
            List<Param> params = new ArrayList<>();
            for (int i = 0; i < raw.size(); i++) {
                String decl = raw.get(i).trim().replaceAll("\\s+", " ");
                Param p = param(decl, file, kernel);
                if (p.kind() == Kind.POINTER) {
                    // KernelRuntime passes a tensor as its buffer and an int element offset.
                    String next = i + 1 < raw.size() ? raw.get(i + 1).trim().replaceAll("\\s+", " ") : "";
                    if (next.isEmpty() || next.contains("*") || param(next, file, kernel).kind() != Kind.INT) {
                        throw new IllegalStateException("kernels/" + file + ": kernel " + kernel + " pointer '" + p.name()
                                + "' must be followed by its int element offset, found '" + next + "'");
                    }
                    i++;
                }
                params.add(p);
            }
            if (kernels.put(kernel, new Signature(program, kernel, file, List.copyOf(params))) != null) {
                throw new IllegalStateException("kernels/" + file + " declares kernel " + kernel + " twice");
            }
        }
        return Collections.unmodifiableMap(kernels);
    }

    private static Param param(String decl, String file, String kernel) {
        Matcher n = NAME.matcher(decl);
        if (!n.find() || decl.endsWith("*")) {
            throw new IllegalStateException("kernels/" + file + ": kernel " + kernel + " has an unnamed parameter '" + decl + "'");
        }
        String name = n.group(1);
        boolean pointer = decl.contains("*");
        List<String> type = new ArrayList<>();
        for (String t : decl.substring(0, n.start()).replace("*", " ").trim().split(" ")) {
            if (t.equals("LOCAL") || t.equals("__local") || t.equals("local")) {
                throw new IllegalStateException("kernels/" + file + ": kernel " + kernel + " parameter '" + name
                        + "' is a local pointer; local memory is declared at kernel scope (LOCAL_ARRAY)");
            }
            if (!t.isEmpty() && !QUALIFIERS.contains(t)) type.add(t);
        }
        String base = String.join(" ", type);
        if (pointer) {
            Set<DType> dtypes = switch (base) {
                case "float" -> Set.of(DType.F32);
                case "int" -> Set.of(DType.I32);
                case "U32", "uint", "unsigned", "unsigned int" -> Set.of(DType.F32, DType.I32);
                // bf16 storage of the CUDA-only kernels (BF16_STORAGE: none until the tensor layer has the dtype)
                case "unsigned short", "ushort", "U16" -> BF16_STORAGE;
                default -> throw unsupported(decl, file, kernel);
            };
            return new Param(name, Kind.POINTER, dtypes, decl);
        }
        Kind kind = switch (base) {
            case "int" -> Kind.INT;
            case "U32", "uint", "unsigned", "unsigned int" -> Kind.U32;
            case "I64", "long", "long long" -> Kind.I64;
            case "U64", "ulong", "unsigned long long" -> Kind.U64;
            case "float" -> Kind.FLOAT;
            default -> throw unsupported(decl, file, kernel);
        };
        return new Param(name, kind, Set.of(), decl);
    }

    private static IllegalStateException unsupported(String decl, String file, String kernel) {
        return new IllegalStateException("kernels/" + file + ": kernel " + kernel + " parameter '" + decl
                + "' has a type no launch can pass (pointers to float, int, U32 or unsigned short; int, U32, I64, U64, float)");
    }

    /** The source without its comments (so a commented-out kernel is not a kernel), line breaks kept. */
    public static String stripComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '/' && i + 1 < s.length() && s.charAt(i + 1) == '*') {
                int end = s.indexOf("*/", i + 2);
                if (end < 0) end = s.length() - 2;
                for (int j = i; j < end + 2; j++) if (s.charAt(j) == '\n') out.append('\n');
                out.append(' ');
                i = end + 1;
            } else if (c == '/' && i + 1 < s.length() && s.charAt(i + 1) == '/') {
                while (i < s.length() && s.charAt(i) != '\n') i++;
                if (i < s.length()) out.append('\n');
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}

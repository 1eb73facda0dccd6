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
 * {@code U32 *} either (32-bit copies), {@code BF16 *} / {@code U16 *} BF16; {@code ACT *} and
 * {@code OUT *} take the dtype of the launch's {@link Flavour}, which the dtypes of those tensors
 * choose ({@link Signature#flavour}): all ACT tensors of one launch share a dtype, and so do all
 * OUT tensors.
 */
public final class KernelSignatures {
    /** What a declared parameter takes from Java. */
    public enum Kind {
        POINTER("a Tensor or null"), INT("an Integer"), U32("an Integer (its 32 bits)"), I64("a Long"),
        U64("a Long (its 64 bits)"), FLOAT("a Float");

        final String wants;

        Kind(String wants) { this.wants = wants; }
    }

    /** Where a pointer's dtype comes from: its declaration, or the launch's flavour (ACT, OUT). */
    public enum Storage { FIXED, ACT, OUT }

    /**
     * One Java argument's parameter: its name, what it takes, the tensor dtypes a FIXED pointer
     * accepts (ACT and OUT pointers: the flavour's), and the declaration.
     */
    public record Param(String name, Kind kind, Set<DType> dtypes, Storage storage, String declaration) {
        Param(String name, Kind kind, Set<DType> dtypes, String declaration) { this(name, kind, dtypes, Storage.FIXED, declaration); }

        /** The dtypes this pointer takes in {@code flavour}. */
        public Set<DType> dtypes(Flavour flavour) {
            return switch (storage) {
                case FIXED -> dtypes;
                case ACT -> Set.of(flavour.act());
                case OUT -> Set.of(flavour.out());
            };
        }

        @Override public String toString() { return declaration; }
    }

    /** One kernel: where it is declared and its parameters, pointer + offset folded into one; qualifiedName is "program/kernel". */
    public record Signature(String program, String kernel, String file, List<Param> params, String qualifiedName) {
        Signature(String program, String kernel, String file, List<Param> params) {
            this(program, kernel, file, params, program + "/" + kernel);
        }

        /**
         * Throws IllegalArgumentException naming the kernel, the argument position (1-based, of the
         * Java arguments), the parameter and both types when {@code args} do not fit; returns the
         * flavour the launch runs in.
         */
        public Flavour check(Object[] args) {
            if (args.length != params.size()) {
                throw new IllegalArgumentException("kernel " + qualifiedName() + " (kernels/" + file + ") takes "
                        + params.size() + " arguments " + names() + ", launched with " + args.length);
            }
            Flavour flavour = flavour(args);
            for (int i = 0; i < args.length; i++) {
                Param p = params.get(i);
                Object a = args[i];
                String problem = mismatch(p, a, flavour);
                if (problem != null) {
                    throw new IllegalArgumentException("kernel " + qualifiedName() + " (kernels/" + file + "): argument "
                            + (i + 1) + " of " + args.length + " '" + p.name() + "' is declared " + p.declaration()
                            + ", which takes " + p.kind().wants + (p.kind() == Kind.POINTER ? " of " + p.dtypes(flavour) : "")
                            + (p.storage() != Storage.FIXED ? " in the " + flavour.id() + " flavour" : "")
                            + "; got " + problem);
                }
            }
            return flavour;
        }

        /**
         * The flavour {@code args} ask for: the dtype of their ACT tensors and of their OUT tensors
         * (f32 when there are none). Tensors of one storage that disagree, or a pair no flavour
         * stores, are an error naming the arguments.
         */
        public Flavour flavour(Object[] args) {
            DType act = null, out = null;
            String actFrom = null, outFrom = null;
            for (int i = 0; i < Math.min(args.length, params.size()); i++) {
                Param p = params.get(i);
                if (p.storage() == Storage.FIXED || !(args[i] instanceof Tensor t)) continue;
                String here = "argument " + (i + 1) + " '" + p.name() + "' (" + t.dtype() + ")";
                if (p.storage() == Storage.ACT) {
                    if (act != null && act != t.dtype()) throw mixed("ACT", actFrom, here);
                    act = t.dtype();
                    actFrom = here;
                } else {
                    if (out != null && out != t.dtype()) throw mixed("OUT", outFrom, here);
                    out = t.dtype();
                    outFrom = here;
                }
            }
            Flavour f = Flavour.of(act, out);
            if (f == null) {
                throw new IllegalArgumentException("kernel " + qualifiedName() + " (kernels/" + file + ") has no flavour with "
                        + (act == null ? "" : "activations (ACT) in " + act + ", from " + actFrom)
                        + (act != null && out != null ? " and " : "")
                        + (out == null ? "" : "results (OUT) in " + out + ", from " + outFrom)
                        + "; kernels store activations in F32 or BF16 (flavours " + flavoursText() + ")");
            }
            return f;
        }

        private IllegalArgumentException mixed(String storage, String first, String second) {
            return new IllegalArgumentException("kernel " + qualifiedName() + " (kernels/" + file + "): its " + storage
                    + " tensors must share one dtype, but " + first + " and " + second + " differ");
        }

        /** The flavours this kernel is compiled in and differs between: f32; bf16 with ACT or OUT pointers; bf16-f32 with OUT pointers. */
        public List<Flavour> flavours() {
            boolean act = params.stream().anyMatch(p -> p.storage() != Storage.FIXED);
            boolean out = params.stream().anyMatch(p -> p.storage() == Storage.OUT);
            return out ? List.of(Flavour.F32, Flavour.BF16, Flavour.BF16_F32) : act ? List.of(Flavour.F32, Flavour.BF16) : List.of(Flavour.F32);
        }

        private static String flavoursText() {
            StringBuilder s = new StringBuilder();
            for (Flavour f : Flavour.values()) s.append(s.length() == 0 ? "" : ", ").append(f.id()).append(": ").append(f.act()).append('/').append(f.out());
            return s.toString();
        }

        private List<String> names() { return params.stream().map(Param::name).toList(); }
    }

    /** Why {@code a} does not fit {@code p} in {@code flavour} ("an I32 tensor [4]", "Integer 3"), or null when it does. */
    private static String mismatch(Param p, Object a, Flavour flavour) {
        boolean fits = switch (p.kind()) {
            case POINTER -> a == null || (a instanceof Tensor t && p.dtypes(flavour).contains(t.dtype()));
            case INT, U32 -> a instanceof Integer;
            case I64, U64 -> a instanceof Long;
            case FLOAT -> a instanceof Float;
        };
        if (fits) return null;
        if (a == null) return "null";
        if (a instanceof Tensor t) return "a " + t.dtype() + " tensor " + t.shape();
        return a.getClass().getSimpleName() + " " + a;
    }

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

    /** A checked launch: the kernel's declaration and the flavour its arguments run in. */
    public record Launch(Signature signature, Flavour flavour) {
        /** "program/kernel", with "@flavour" outside f32 (launch logs, errors). */
        public String qualifiedName() { return flavour.qualify(signature.qualifiedName()); }
    }

    /** Checks {@code args} against the declaration of {@code program/kernel}; returns it with the launch's flavour. */
    public static Launch check(String program, String kernel, Object[] args) {
        Signature s = of(program, kernel);
        return new Launch(s, s.check(args));
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
            if (base.equals("ACT")) return new Param(name, Kind.POINTER, Set.of(), Storage.ACT, decl);
            if (base.equals("OUT")) return new Param(name, Kind.POINTER, Set.of(), Storage.OUT, decl);
            Set<DType> dtypes = switch (base) {
                case "float" -> Set.of(DType.F32);
                case "int" -> Set.of(DType.I32);
                case "U32", "uint", "unsigned", "unsigned int" -> Set.of(DType.F32, DType.I32);
                case "BF16", "U16", "ushort", "unsigned short" -> Set.of(DType.BF16);
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
                + "' has a type no launch can pass (pointers to float, int, U32, BF16/U16, ACT or OUT; int, U32, I64, U64, float)");
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

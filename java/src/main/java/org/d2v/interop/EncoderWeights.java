package org.d2v.interop;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.tensor.DType;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;
import org.d2v.train.CheckpointException;
import org.d2v.train.SafeTensors;

/**
 * A student encoder's weights as a file of their own: safetensors, metadata {@code format: pt}
 * (what PyTorch's safetensors loader expects), under d2v's names or under fairseq's data2vec 2.0
 * module names and layouts. Nothing else of a checkpoint travels: no teacher, no decoder, no
 * optimizer moments, no step.
 */
public final class EncoderWeights {
    /** The names a file uses. */
    public enum Format {
        /** d2v's own parameter names (as in a checkpoint, without "student."), channels-last convolutions. */
        D2V,
        /** fairseq's data2vec 2.0 names (modality_encoders.IMAGE..., blocks.N...), PyTorch layouts. */
        FAIRSEQ;

        public static Format named(String s) {
            for (Format f : values()) if (f.name().equalsIgnoreCase(s)) return f;
            throw new IllegalArgumentException("--format: must be fairseq or d2v, got '" + s + "'");
        }
    }

    /** Metadata keys besides "format". */
    static final String NAMES = "d2v_names", MODALITY = "modality", PRESET = "d2v_preset";

    /**
     * fairseq tensors that d2v's encoder has no use for, and why they may be skipped on import;
     * anything else d2v does not know is refused.
     */
    private static final List<Map.Entry<Pattern, String>> SKIPPED = List.of(
            Map.entry(Pattern.compile("_ema(\\..*)?"), "the EMA teacher (d2v's import sets the teacher to the imported student)"),
            Map.entry(Pattern.compile("modality_encoders\\.[A-Z]+\\.decoder\\..*"), "the pretraining decoder (d2v keeps its own, freshly initialised)"),
            Map.entry(Pattern.compile("(shared_decoder|recon_proj)\\..*"), "pretraining-only heads"),
            Map.entry(Pattern.compile("modality_encoders\\.IMAGE\\.fixed_positional_encoder\\.positions"),
                    "fixed sin-cos positions (d2v computes the same ones from the image size)"));

    private EncoderWeights() {}

    /** What an import found: the d2v-named values and the file tensors it skipped, with the reason. */
    public record Imported(Map<String, double[]> values, Map<String, String> skipped, Format format) {}

    /**
     * Writes {@code student} (d2v names without "student.", values and shapes) as an encoder
     * weights file; decoder tensors are left out. Returns how many tensors were written.
     */
    public static int write(Path file, Format format, String modality, String preset, Map<String, double[]> values,
                            Map<String, int[]> shapes) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put(NAMES, format.name().toLowerCase(Locale.ROOT));
        meta.put(MODALITY, modality);
        meta.put(PRESET, preset);
        try (ReferenceDevice host = new ReferenceDevice()) {
            Map<String, Tensor> out = new TreeMap<>();
            for (Map.Entry<String, double[]> e : values.entrySet()) {
                String name = e.getKey();
                if (FairseqNames.pretrainingOnly(name)) continue;
                int[] shape = shapes.get(name);
                if (format == Format.D2V) {
                    out.put(name, Tensor.of(host, DType.F32, Shape.of(shape), e.getValue()));
                } else {
                    FairseqNames.Target t = FairseqNames.target(modality, name, shape);
                    if (out.containsKey(t.name())) throw new IllegalStateException("two d2v tensors map to " + t.name());
                    out.put(t.name(), Tensor.of(host, DType.F32, Shape.of(t.shape()), t.layout().toFairseq(e.getValue(), shape)));
                }
            }
            SafeTensors.write(file, out, meta);
            return out.size();
        }
    }

    /**
     * Reads an encoder weights file (either format, told apart by its names) for a model whose
     * encoder parameters are {@code expected} (d2v names without "student." → shapes). Every
     * expected tensor must be there with the right shape; a tensor the model has no place for is
     * refused unless it is one fairseq keeps for pretraining only (then it is skipped and named).
     * Everything is checked before a value is returned.
     */
    public static Imported read(Path file, String modality, Map<String, int[]> expected) throws IOException {
        try (SafeTensors.Reader r = SafeTensors.open(file)) {
            Map<String, SafeTensors.Info> infos = r.tensors();
            boolean fairseq = infos.keySet().stream().anyMatch(n -> n.startsWith("modality_encoders.") || n.startsWith("_ema"))
                    || "fairseq".equals(r.metadata().get(NAMES));
            String fileModality = r.metadata().get(MODALITY);
            if (fileModality != null && !fileModality.equals(modality)) {
                throw new CheckpointException(file, "holds a " + fileModality + " encoder, the model is " + modality);
            }
            String mine = "modality_encoders." + modality.toUpperCase(Locale.ROOT) + ".";
            Map<String, String> fileName = new LinkedHashMap<>(); // d2v name → name in the file
            Map<String, FairseqNames.Target> targets = new LinkedHashMap<>();
            for (Map.Entry<String, int[]> e : expected.entrySet()) {
                if (FairseqNames.pretrainingOnly(e.getKey())) continue;
                FairseqNames.Target t = fairseq ? FairseqNames.target(modality, e.getKey(), e.getValue())
                        : new FairseqNames.Target(e.getKey(), Layout.SAME, e.getValue());
                targets.put(e.getKey(), t);
                fileName.put(e.getKey(), t.name());
            }
            List<String> missing = new ArrayList<>();
            for (Map.Entry<String, FairseqNames.Target> e : targets.entrySet()) {
                SafeTensors.Info info = infos.get(e.getValue().name());
                if (info == null) {
                    missing.add(e.getValue().name());
                } else if (!Arrays.equals(info.shape().dims(), e.getValue().shape())) {
                    throw new CheckpointException(file, "tensor '" + info.name() + "' has shape " + info.shape() + ", the model needs "
                            + Layout.shape(e.getValue().shape()) + " (another preset or model size?)");
                }
            }
            if (!missing.isEmpty()) {
                throw new CheckpointException(file, missing.size() + " tensor(s) the " + modality + " encoder needs are missing, first '"
                        + missing.get(0) + "'" + (fairseq ? "" : " (a d2v-named file; fairseq files name tensors modality_encoders.* / blocks.*)"));
            }
            Map<String, String> skipped = new TreeMap<>();
            java.util.Set<String> used = new java.util.HashSet<>(fileName.values());
            for (String name : infos.keySet()) {
                if (used.contains(name)) continue;
                String why = fairseq ? skipReason(name, mine) : null;
                if (why == null) {
                    throw new CheckpointException(file, "tensor '" + name + "' has no place in d2v's " + modality + " encoder"
                            + (fairseq ? " (see docs/interop.md for what maps)" : ""));
                }
                skipped.put(name, why);
            }
            Map<String, double[]> values = new LinkedHashMap<>();
            for (Map.Entry<String, FairseqNames.Target> e : targets.entrySet()) {
                double[] v = r.read(e.getValue().name());
                values.put(e.getKey(), e.getValue().layout().toD2v(v, expected.get(e.getKey())));
            }
            return new Imported(values, skipped, fairseq ? Format.FAIRSEQ : Format.D2V);
        }
    }

    private static String skipReason(String name, String mine) {
        for (Map.Entry<Pattern, String> s : SKIPPED) if (s.getKey().matcher(name).matches()) return s.getValue();
        if (name.startsWith("modality_encoders.") && !name.startsWith(mine)) return "another modality's encoder";
        return null;
    }

    /** The student encoder's parameters of a model state (student.NAME → NAME), shapes only. */
    public static Map<String, int[]> encoderShapes(Map<String, Tensor> state) {
        Map<String, int[]> out = new LinkedHashMap<>();
        state.forEach((k, t) -> {
            if (k.startsWith(STUDENT) && !FairseqNames.pretrainingOnly(k.substring(STUDENT.length()))) out.put(k.substring(STUDENT.length()), t.shape().dims());
        });
        return out;
    }

    /**
     * Sets the student's encoder parameters to {@code values} and the teacher's copies of them to
     * the same (data2vec's teacher starts as the student), leaving the decoder and the optimizer
     * state as they are.
     */
    public static void load(Map<String, Tensor> state, Map<String, double[]> values) {
        for (Map.Entry<String, double[]> e : values.entrySet()) {
            Tensor student = state.get(STUDENT + e.getKey());
            if (student == null) throw new IllegalArgumentException("the model has no parameter '" + e.getKey() + "'");
            student.copyFrom(e.getValue());
            Tensor teacher = state.get(TEACHER + e.getKey());
            if (teacher != null) teacher.copyFrom(e.getValue());
        }
    }

    private static final String STUDENT = "student.", TEACHER = "teacher.";
}

package org.d2v.bench.twin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.d2v.bench.MachineLoad;

/**
 * Proves the PyTorch twin is the same computation as d2v: writes one d2v step per preset and
 * backend ({@link StepDump}: reference in float64, OpenCL in float32), has the twin repeat each
 * ({@code d2v_twin.py check}) and writes the comparison to bench/results/torch-equivalence.md.
 * Exits 1 when the twin differs beyond its limits; without an importable torch it says so and
 * exits 0 (CI has no torch).
 *
 * <pre>usage: TwinCheck [--presets image-demo,image-tiny,audio-tiny,text-tiny,audio-demo,text-demo] [--backends reference,opencl]
 *                  [--dir build/twin] [--out bench/results]</pre>
 */
public final class TwinCheck {
    private TwinCheck() {}

    public static void main(String[] args) throws Exception {
        List<String> presets = List.of("image-demo", "image-tiny", "audio-tiny", "text-tiny", "audio-demo", "text-demo");
        List<String> backends = List.of("reference", "opencl");
        Path dir = Path.of("build/twin"), out = Path.of("bench/results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--presets" -> presets = List.of(args[++i].split(","));
                case "--backends" -> backends = List.of(args[++i].split(","));
                case "--dir" -> dir = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("TwinCheck: unknown option " + args[i]);
            }
        }
        String missing = TwinProcess.whyUnavailable();
        if (missing != null) {
            System.out.println("PyTorch twin check skipped: " + missing);
            return;
        }
        int rc = run(presets, backends, dir, out, String.join(" ", args));
        if (rc != 0) System.exit(rc);
    }

    /** Dumps, checks and writes the table; returns the twin check's exit status (0: the same computation). */
    static int run(List<String> presets, List<String> backends, Path dir, Path out, String args) throws Exception {
        String before = MachineLoad.uptime();
        List<String> cmd = new ArrayList<>(List.of(TwinProcess.python(), TwinProcess.script().toString(), "check"));
        for (String p : presets) {
            Path d = dir.resolve(p);
            StepDump.dump(p, d, backends, null);
            cmd.add(d.toString());
        }
        Path table = Files.createTempFile("torch-equivalence", ".md");
        cmd.addAll(List.of("--out", table.toString()));
        int rc = new ProcessBuilder(cmd).inheritIO().start().waitFor();
        if (!Files.exists(table) || Files.size(table) == 0) return rc == 0 ? 1 : rc;
        String md = "# Is the PyTorch twin the same computation as d2v?\n\n"
                + "One training step per preset, dropout and layerdrop off (the only random choices left are the masks and the "
                + "decoder noise, which the twin reads from d2v's dump): the same initial student and teacher, batch, masks and "
                + "noise in, then loss terms, the gradient of every parameter, the AdamW moments and the parameters after the "
                + "step (AdamW + EMA) compared. float64 twin vs d2v's reference backend (float64); float32 twin vs d2v on "
                + "OpenCL (float32). Relative differences: max-norm = max|twin − d2v| / max|d2v|, L2 = ‖twin − d2v‖ / ‖d2v‖, per "
                + "tensor (worst tensor named) or over the whole model. In float32 the first AdamW step is lr·sign(g) wherever "
                + "|g| ≫ eps, so a near-zero gradient whose sign differs in the two programs steps the other way: per-tensor "
                + "parameter differences in float32 measure that, not a different computation (float64 shows the update itself "
                + "agrees to ~1e-11).\n\n"
                + Files.readString(table)
                + "\nLimits (`bench/pytorch/twin/check.py`): float64 loss 1e-10, gradients 1e-9, moments 1e-9, every parameter "
                + "tensor after the step 1e-9, every update 1e-8; float32 loss 1e-5, gradients 1e-4, moments 1e-4, whole-model "
                + "parameters 1e-5.\n\n"
                + "Load: `" + before + "`\n\n"
                + "Command: `make bench` → `java -cp bench/target/benchmarks.jar " + TwinCheck.class.getName() + (args.isEmpty() ? "" : " " + args)
                + "` (from the repository root).\n";
        Files.delete(table);
        Files.createDirectories(out);
        Files.writeString(out.resolve("torch-equivalence.md"), md);
        System.out.println("wrote " + out.resolve("torch-equivalence.md") + (rc == 0 ? "" : " (the twin differs from d2v: see the table)"));
        return rc;
    }
}

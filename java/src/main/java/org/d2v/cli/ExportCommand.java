package org.d2v.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.d2v.interop.EncoderWeights;
import org.d2v.train.Checkpoint;
import org.d2v.train.ResumeCheck;
import org.d2v.train.WriteFailure;
import org.d2v.train.SafeTensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code d2v export}: a run's student encoder as a weights-only safetensors file, under fairseq's or d2v's names. */
@Command(name = "export", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class, sortOptions = false,
        description = {"Write a run's student encoder as a weights-only safetensors file (fairseq or d2v names).", "",
                "Reads the run's latest checkpoint (or --checkpoint) and writes the student encoder's parameters, nothing else (no "
                        + "teacher, decoder or optimizer state), as safetensors with metadata format: pt. With --format fairseq the "
                        + "tensors carry the names and layouts of fairseq's data2vec 2.0 model (modality_encoders.IMAGE.local_encoder."
                        + "proj.weight, blocks.N.attn.qkv.weight, ...; convolutions [out, in/groups, k...]), so PyTorch code that builds "
                        + "fairseq's Data2VecMultiModel can load them with load_state_dict(strict=False); docs/interop.md lists the "
                        + "mapping and what has no counterpart. 'd2v import' and 'd2v pretrain --init' read either format back.", "",
                "Options:"})
public final class ExportCommand extends CliCommand {
    @Option(names = "--run", paramLabel = "DIR", description = "the run folder (it holds 'latest' and checkpoint-<step>/) [required]")
    Path run;

    @Option(names = "--checkpoint", paramLabel = "NAME", description = "a checkpoint folder of the run instead of the latest, e.g. checkpoint-200")
    String checkpoint;

    @Option(names = "--format", paramLabel = "fairseq|d2v", description = "the tensor names and layouts to write [fairseq]")
    String format;

    @Option(names = "--out", paramLabel = "FILE",
            description = "the file to write (replaced atomically if it exists) [<run>/encoder-<format>-<step>.safetensors]")
    Path out;

    @Override
    public Integer call() throws Exception {
        EncoderWeights.Format f = EncoderWeights.Format.named(format == null ? "fairseq" : format);
        if (run == null) throw new IllegalArgumentException("--run: required (the run folder to export)");
        Checkpoint c = checkpoint != null ? Checkpoint.load(run.resolve(checkpoint)) : ResumeCheck.checkpoint(run, System.err);
        Map<String, double[]> values = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (SafeTensors.Reader r = SafeTensors.open(c.dir().resolve(Checkpoint.TENSORS))) {
            for (SafeTensors.Info info : r.tensors().values()) {
                if (!info.name().startsWith("student.")) continue;
                String name = info.name().substring("student.".length());
                values.put(name, r.read(info.name()));
                shapes.put(name, info.shape().dims());
            }
        }
        if (values.isEmpty()) throw new IllegalArgumentException(c.dir() + ": holds no student tensors (not a data2vec run?)");
        String modality = c.manifest().modality();
        Path target = out != null ? out : run.resolve(String.format(Locale.ROOT, "encoder-%s-%d.safetensors", f.name().toLowerCase(Locale.ROOT),
                c.manifest().step()));
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        int n;
        try {
            n = EncoderWeights.write(temp, f, modality, c.manifest().preset(), values, shapes);
        } catch (IOException e) {
            Files.deleteIfExists(temp);
            throw WriteFailure.of(target, "the encoder weights", e, 0);
        }
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.printf(Locale.ROOT, "wrote %s: %d tensors of the %s student encoder (%s, step %d), %s names%n", target, n, modality,
                c.manifest().preset(), c.manifest().step(), f.name().toLowerCase(Locale.ROOT));
        return Cli.OK;
    }
}

package org.d2v.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.d2v.backend.Backends;
import org.d2v.backend.Device;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.demo.DemoPresets;
import org.d2v.interop.EncoderWeights;
import org.d2v.train.Checkpoint;
import org.d2v.train.ResumeCheck;
import org.d2v.train.CheckpointManifest;
import org.d2v.train.ModelFactory;
import org.d2v.train.TrainableModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code d2v import}: an encoder weights file (fairseq or d2v names) as a new run at step 0, ready to probe, fine-tune or pretrain on. */
@Command(name = "import", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class, sortOptions = false,
        description = {"Make a run of an encoder weights file (fairseq's data2vec 2.0 names or d2v's), to probe, fine-tune or pretrain.", "",
                "Builds the model of --modality and --preset, sets its student encoder (and the EMA teacher's copy) to the file's "
                        + "tensors — every one the encoder needs must be there with the right shape, anything it has no place for is "
                        + "refused, except fairseq's pretraining-only tensors (EMA teacher, decoder, fixed positions), which are skipped "
                        + "and named — and writes checkpoint-0 into --run. Then 'd2v probe --run', 'd2v finetune --run' and "
                        + "'d2v pretrain --resume' work on it. tools/fairseq_to_safetensors.py makes such a file of a fairseq .pt "
                        + "checkpoint.", "", "Options:"})
public final class ImportCommand extends CliCommand {
    @Option(names = "--weights", paramLabel = "FILE", description = "the encoder weights file (safetensors) [required]")
    Path weights;

    @Option(names = "--modality", paramLabel = "image|audio|text", description = "the encoder's modality [required]")
    PretrainCommand.Modality modality;

    @Option(names = "--preset", paramLabel = "micro|demo|tiny|base", description = "the model size the file was made for [base]")
    PretrainCommand.Size preset;

    @Option(names = "--run", paramLabel = "DIR", description = "the new run folder; it must not hold checkpoints yet [required]")
    Path run;

    @Option(names = "--seed", paramLabel = "S", description = "initialisation of what the file does not hold (the decoder) [1]")
    Long seed;

    @Override
    public Integer call() throws Exception {
        if (weights == null) throw new IllegalArgumentException("--weights: required (the file to import)");
        if (modality == null) throw new IllegalArgumentException("--modality: required (image, audio or text)");
        if (run == null) throw new IllegalArgumentException("--run: required (the run folder to create)");
        String used = ResumeCheck.inUse(run);
        if (used != null) throw new IllegalArgumentException("--run: " + run + " " + used + (used.startsWith("is a file") || used.startsWith("cannot") ? "" : "; choose a new folder"));
        String size = (preset == null ? PretrainCommand.Size.base : preset).name();
        long s = seed == null ? 1 : seed;
        Data2VecConfig cfg = DemoPresets.named(modality.name() + "-" + size).withSeed(s);
        try (Device device = Backends.open("reference"); TrainableModel model = ModelFactory.build(cfg, device)) {
            Map<String, org.d2v.tensor.Tensor> state = model.state();
            EncoderWeights.Imported in = EncoderWeights.read(weights, modality.name(), EncoderWeights.encoderShapes(state));
            EncoderWeights.load(state, in.values());
            CheckpointManifest m = new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, 0, 0, cfg.name(), modality.name(),
                    device.backend(), s, 0, 0, Map.of("--modality", modality.name(), "--preset", size, "--seed", Long.toString(s),
                    "--init", weights.toString()), "", 0);
            Files.createDirectories(run);
            Files.writeString(run.resolve("metrics.jsonl"), ""); // the history of a run at step 0
            Checkpoint saved = Checkpoint.save(run, m, state);
            System.out.printf(Locale.ROOT, "imported %d tensors (%s names) of %s into %s%n", in.values().size(),
                    in.format().name().toLowerCase(Locale.ROOT), weights, saved.dir());
            in.skipped().forEach((name, why) -> System.out.println("  skipped " + name + ": " + why));
        }
        return Cli.OK;
    }
}

package org.d2v.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.d2v.backend.Device;
import org.d2v.data.DataDir;
import org.d2v.data2vec.Precision;
import picocli.CommandLine.Option;

/**
 * The options of every command that reads a pretraining run and evaluates it on labeled data
 * ({@code d2v probe}, {@code d2v finetune}): which run and checkpoint, which data, which backend
 * and precision. A picocli mixin, so both commands spell and check them the same way.
 */
final class PretrainedRunOptions {
    @Option(names = "--run", paramLabel = "DIR", description = "the run folder (it holds 'latest' and checkpoint-<step>/) [required]")
    Path run;

    @Option(names = "--checkpoint", paramLabel = "NAME", description = "a checkpoint folder of the run instead of the latest, e.g. checkpoint-200")
    String checkpoint;

    @Option(names = "--data", paramLabel = "DIR",
            description = "data folder of 'd2v data install', or your labeled data: an ImageFolder tree (<dir>/<class>/*.png|jpg...), "
                    + "class sub-folders of 16 kHz WAVs, class sub-folders of .txt files or a .tsv of label<TAB>text lines "
                    + "[build/data, or $D2V_DATA]")
    Path data;

    @Option(names = "--test-data", paramLabel = "PATH",
            description = "your labeled test data, laid out as --data (else every 5th example of each class, in path order, is held out)")
    Path testData;

    @Option(names = "--backend", paramLabel = "NAME", description = "reference | opencl | cuda | auto (auto: highest priority available) [auto]")
    String backend;

    @Option(names = "--precision", paramLabel = "P",
            description = "fp32 | bf16 (bf16 activations, fp32 master weights) | auto (bf16 on a GPU, the faster one measured on a CPU "
                    + "OpenCL device); any precision reads any run's checkpoints (docs/precision.md) [auto]")
    String precision;

    /** --data, else the installed data sets' folder. */
    Path dataRoot() { return data != null ? data : DataDir.root(); }

    /** --backend, checked. */
    String backendName() { return Options.backend("--backend", backend); }

    /** The run and checkpoint named, validated. */
    PretrainedRun open() throws IOException { return PretrainedRun.open(run, checkpoint, dataRoot()); }

    /** --precision on {@code device}. */
    Precision precision(Device device) { return Precision.resolve(precision == null ? "auto" : precision, device, "--precision:"); }
}

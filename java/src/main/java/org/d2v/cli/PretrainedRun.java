package org.d2v.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.d2v.data.text.Tokenizer;
import org.d2v.data.text.Tokenizers;
import org.d2v.data.text.TextSets;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.demo.DemoPresets;
import org.d2v.train.Checkpoint;
import org.d2v.train.CheckpointManifest;
import org.d2v.train.ResumeCheck;
import org.d2v.train.RunFiles;

/**
 * The checkpoint of a pretraining run named by --run (and --checkpoint), as probe, finetune and
 * export read it: the model configuration rebuilt from the manifest and, for text, the tokenizer saved
 * with the run.
 */
record PretrainedRun(Path path, Checkpoint checkpoint, CheckpointManifest manifest, Data2VecConfig config, Tokenizer tokenizer) {

    /** Opens it; {@code dataRoot} supplies a tokenizer only for text runs that saved none (generated data). */
    static PretrainedRun open(Path run, String checkpoint, Path dataRoot) throws IOException {
        if (run == null) throw new IllegalArgumentException("--run: required (the run folder, holding 'latest' and checkpoint-<step>/)");
        Checkpoint c = checkpoint != null ? Checkpoint.load(run.resolve(checkpoint)) : ResumeCheck.checkpoint(run, System.err);
        Path ckpt = c.dir();
        CheckpointManifest m = c.manifest();
        Data2VecConfig cfg = RunFiles.modelConfig(m, DemoPresets::named);
        Tokenizer bpe = null;
        if (cfg.modality() instanceof ModalityConfig.Text) {
            bpe = Tokenizers.ofRun(run);
            if (bpe == null) {
                System.err.println("note: " + run + " holds no " + RunFiles.TOKENIZER + " (a run on generated tokens); using the data folder's tokenizer");
                bpe = TextSets.tokenizer(dataRoot);
            }
        }
        return new PretrainedRun(ckpt, c, m, cfg, bpe);
    }
}

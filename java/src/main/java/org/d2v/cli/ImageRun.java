package org.d2v.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.demo.Args;
import org.d2v.demo.DemoPresets;
import org.d2v.train.Checkpoint;
import org.d2v.train.CheckpointManifest;

/** The checkpoint of an image pretraining run named by --run (and --checkpoint), as probe and finetune read it. */
record ImageRun(Path path, Checkpoint checkpoint, CheckpointManifest manifest, Data2VecConfig config) {

    /** Opens it, or prints why not (a non-image run) naming the command and returns null. */
    static ImageRun open(Args a, String command, String verb) throws IOException {
        if (!a.has("--run")) throw new IllegalArgumentException("--run <dir> is required");
        Path run = Path.of(a.string("--run", null));
        Path ckpt = a.has("--checkpoint") ? run.resolve(a.string("--checkpoint", null)) : Checkpoint.latest(run);
        Checkpoint c = Checkpoint.load(ckpt);
        CheckpointManifest m = c.manifest();
        Data2VecConfig cfg = DemoPresets.named(m.preset());
        if (!(cfg.modality() instanceof ModalityConfig.Image)) {
            System.err.println("d2v " + command + ": " + ckpt + " is a " + m.modality() + " run; only image runs can be " + verb + " so far");
            return null;
        }
        return new ImageRun(ckpt, c, m, cfg);
    }
}

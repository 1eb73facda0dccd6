package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.d2v.backend.Device;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Presets;
import org.d2v.tensor.Tensor;
import org.d2v.train.Checkpoint;
import org.d2v.train.CheckpointManifest;
import org.d2v.train.FolderHash;
import org.d2v.train.HostileCheckpoints;
import org.d2v.train.ModelFactory;
import org.d2v.train.TrainableModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17, class 4: probe refuses what would score NaN features. A checkpoint with a non-finite
 * weight is refused on load, naming the tensor; one whose weights are finite but so large that the
 * encoder's activations overflow is refused when its features are, naming the checkpoint. Both exit
 * 2 and leave the run folder as it was.
 */
class ProbeNonFiniteTest {
    @TempDir Path tmp;

    @Test
    void probeRefusesNonFiniteWeightsAndFeaturesNamingTheCheckpoint() throws Exception {
        Path images = UserData.images(tmp.resolve("photos"), 6), run = tmp.resolve("run");
        Captured p = OwnDataTest.pretrain("image", images, run, "--steps", "1");
        assertEquals(0, p.code(), p.err());
        CheckpointManifest m = Checkpoint.load(run.resolve("checkpoint-1")).manifest();
        // checkpoint-2: the same model with every student weight at ±1e30, finite in float32, saved as d2v saves any checkpoint.
        try (Device device = new ReferenceDevice(); TrainableModel model = ModelFactory.build(Presets.imageMicro(), device)) {
            Checkpoint.load(run.resolve("checkpoint-1")).restore(model.state());
            for (Map.Entry<String, Tensor> e : model.state().entrySet()) {
                if (!e.getKey().startsWith("student.")) continue;
                double[] v = e.getValue().toDoubles();
                for (int i = 0; i < v.length; i++) v[i] = (i % 2 == 0 ? 1e30 : -1e30);
                e.getValue().copyFrom(v);
            }
            Checkpoint.save(run, new CheckpointManifest(m.formatVersion(), 2, 2, m.preset(), m.modality(), m.backend(), m.seed(), m.rngPosition(),
                    m.dataPosition(), m.config(), "", 0), model.state());
        }
        Map<String, String> before = FolderHash.of(run);
        Captured huge = OwnDataTest.probe(run, images);
        assertEquals(2, huge.code(), huge.err());
        assertTrue(huge.err().startsWith("d2v probe: " + run.resolve("checkpoint-2") + ": its encoder's features on "), huge.err());
        assertTrue(huge.err().contains("are not finite (the training features: feature ") && huge.err().contains("probe an earlier checkpoint"),
                huge.err());
        assertFalse(huge.out().contains("test "), "no accuracy is reported:\n" + huge.out());
        assertEquals(before, FolderHash.of(run));

        // A NaN weight (file and manifest consistent): refused on load, naming the tensor.
        HostileCheckpoints.poison(run.resolve("checkpoint-1"), "student.blocks.0.attn.qkv.weight", 7, Float.NaN);
        Map<String, String> poisoned = FolderHash.of(run);
        Captured nan = OwnDataTest.probe(run, images, "--checkpoint", "checkpoint-1");
        assertEquals(2, nan.code(), nan.err());
        assertTrue(nan.err().contains(run.resolve("checkpoint-1/tensors.safetensors") + ": tensor 'student.blocks.0.attn.qkv.weight' holds NaN at element 7"),
                nan.err());
        assertEquals(poisoned, FolderHash.of(run));
    }
}

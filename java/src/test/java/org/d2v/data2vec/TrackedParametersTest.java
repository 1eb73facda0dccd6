package org.d2v.data2vec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.d2v.backend.reference.ReferenceDevice;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.Presets;
import org.d2v.nn.Parameter;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.DType;
import org.junit.jupiter.api.Test;

/** The EMA teacher tracks exactly the parameter sets of docs/algorithm.md §5, per modality. */
class TrackedParametersTest {
    @Test
    void imageTracksPatchEmbedClsPrenetAndBlocks() {
        check(Presets.imageMicro(), n -> n.startsWith("patch_embed.") || n.equals("cls_token") || n.startsWith("prenet_norm.")
                || n.startsWith("prenet.") || n.startsWith("blocks."),
                Set.of("patch_embed", "cls_token", "prenet_norm", "prenet", "blocks"), Set.of("decoder"));
    }

    @Test
    void audioTracksConvPositionsAlibiPrenetNormAndBlocksNotTheStem() {
        check(Presets.audioMicro(), n -> n.startsWith("conv_pos.") || n.equals("alibi_scale") || n.startsWith("prenet_norm.")
                || n.startsWith("blocks."),
                Set.of("conv_pos", "alibi_scale", "prenet_norm", "blocks"), Set.of("feature_extractor", "project_features", "decoder"));
    }

    @Test
    void textTracksBlocksOnly() {
        check(Presets.textMicro(), n -> n.startsWith("blocks."), Set.of("blocks"), Set.of("embed_tokens", "embed_positions", "embed_norm", "decoder"));
    }

    private static void check(Data2VecConfig cfg, Predicate<String> tracked, Set<String> trackedParts, Set<String> untrackedParts) {
        try (Data2Vec m = new Data2Vec(new ReferenceDevice(DType.F32), cfg)) {
            ParameterStore s = m.parameters();
            ParameterStore t = m.teacherParameters();
            Set<String> trackedNames = new TreeSet<>();
            Set<String> parts = new TreeSet<>();
            long trackedCount = 0;
            for (Parameter p : s.parameters()) {
                assertEquals(tracked.test(p.name()), p.tracked(), cfg.name() + ": tracked flag of " + p.name());
                parts.add(p.name().split("\\.")[0]);
                if (p.tracked()) {
                    trackedNames.add(p.name());
                    trackedCount += p.numel();
                }
            }
            Set<String> expectedParts = new TreeSet<>(trackedParts);
            expectedParts.addAll(untrackedParts);
            assertEquals(expectedParts, parts, cfg.name() + ": parts");
            assertEquals(trackedNames, new TreeSet<>(t.names()), cfg.name() + ": the teacher holds exactly the tracked parameters");
            assertEquals(trackedCount, t.count());
            assertTrue(s.sameTrackedLayout(t));
            for (Parameter p : t.parameters()) {
                assertFalse(p.tensor().requiresGrad(), "teacher parameter " + p.name() + " must not require gradients");
                List<Double> a = box(p.tensor().toDoubles()), b = box(s.get(p.name()).toDoubles());
                assertEquals(b, a, "teacher starts as a copy of the student: " + p.name());
            }
            System.out.println(cfg.name() + ": " + t.parameters().size() + " tracked tensors, " + trackedCount + " of " + s.count()
                    + " parameters; by part " + m.parameterCounts());
        }
    }

    private static List<Double> box(double[] v) { return java.util.Arrays.stream(v).boxed().toList(); }
}

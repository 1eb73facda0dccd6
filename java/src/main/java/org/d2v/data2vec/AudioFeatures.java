package org.d2v.data2vec;

import java.util.ArrayList;
import java.util.List;
import org.d2v.autograd.F;
import org.d2v.backend.NormDesc;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.nn.Conv1d;
import org.d2v.nn.Init;
import org.d2v.nn.LayerNorm;
import org.d2v.nn.Linear;
import org.d2v.nn.Module;
import org.d2v.nn.ParameterStore;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * The audio local encoder (docs/algorithm.md §3.2): per-utterance waveform normalisation, the wav2vec conv
 * stem (conv without bias, Kaiming-normal → LN over channels → GELU per layer), then LN + Linear
 * to the model dim. Student only: the teacher reads these features (docs/algorithm.md §5).
 */
final class AudioFeatures extends Module {
    private static final double LN_EPS = 1e-5;

    private final List<Conv1d> convs = new ArrayList<>();
    private final List<LayerNorm> norms = new ArrayList<>();
    private final LayerNorm projectNorm;
    private final Linear project;

    AudioFeatures(ParameterStore.Builder b, ModalityConfig.Audio cfg, int dim) {
        int in = 1;
        int i = 0;
        for (ModalityConfig.ConvLayer l : cfg.stem()) {
            ParameterStore.Builder lb = b.child("feature_extractor").child(Integer.toString(i));
            convs.add(child("feature_extractor." + i + ".conv", new Conv1d(lb.child("conv"), in, l.channels(), l.kernel(), l.stride(), 0, 1, false,
                    Init.kaimingNormal(in * l.kernel()))));
            norms.add(child("feature_extractor." + i + ".norm", new LayerNorm(lb.child("norm"), l.channels(), LN_EPS, true)));
            in = l.channels();
            i++;
        }
        projectNorm = child("project_features.norm", new LayerNorm(b.child("project_features").child("norm"), in, LN_EPS, true));
        project = child("project_features.linear", Linear.pytorchDefault(b.child("project_features").child("linear"), in, dim, true));
    }

    /** waves [B, samples] (host, raw) → local features [B, T, D]. */
    Tensor forward(Tensor waves) {
        int batch = waves.dim(0), samples = waves.dim(1);
        // task.normalize: zero mean, unit variance per utterance (a layer norm over the waveform).
        Tensor normed = Tensor.empty(waves.device(), waves.dtype(), waves.shape());
        Tensor mean = Tensor.empty(waves.device(), waves.dtype().compute(), Shape.of(batch));
        Tensor rstd = Tensor.empty(waves.device(), waves.dtype().compute(), Shape.of(batch));
        waves.device().ops().layerNorm(new NormDesc(batch, samples, LN_EPS), waves, null, null, normed, mean, rstd);
        Tensor h = normed.reshape(batch, samples, 1);
        for (int i = 0; i < convs.size(); i++) h = F.gelu(norms.get(i).forward(convs.get(i).forward(h)));
        return project.forward(projectNorm.forward(h));
    }
}

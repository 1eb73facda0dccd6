package org.d2v.bench.twin;

import java.util.ArrayList;
import java.util.List;
import org.d2v.backend.Ops;
import org.d2v.bench.ForwardingOps;
import org.d2v.tensor.Shape;
import org.d2v.tensor.Tensor;

/**
 * Keeps a copy of every tensor the model fills with Gaussian noise, so that the PyTorch twin can
 * be fed d2v's decoder noise (N(0, 0.01²) at the masked slots, drawn on the device from Philox).
 */
final class NoiseRecorder extends ForwardingOps {
    record Draw(Shape shape, double[] values) {}

    private final List<Draw> draws = new ArrayList<>();

    NoiseRecorder(Ops inner) { super(inner); }

    @Override
    public void normal(Tensor out, double mean, double std, long seed, long offset) {
        super.normal(out, mean, std, seed, offset);
        draws.add(new Draw(out.shape(), out.toDoubles()));
    }

    /** Forgets what was recorded so far (the parameter initialisation draws normals too). */
    void clear() { draws.clear(); }

    List<Draw> draws() { return List.copyOf(draws); }
}

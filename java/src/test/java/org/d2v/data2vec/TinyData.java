package org.d2v.data2vec;

import java.util.Random;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;

/** Generated, structured batches for the tiny presets: there is context to predict masked parts from. */
final class TinyData {
    private TinyData() {}

    static Batch batch(Data2VecConfig cfg, Random r) {
        int n = cfg.batchSize();
        ModalityConfig m = cfg.modality();
        if (m instanceof ModalityConfig.Image img) return images(n, img.size(), img.channels(), r);
        if (m instanceof ModalityConfig.Audio a) return audio(n, a.samples(), r);
        ModalityConfig.Text t = (ModalityConfig.Text) m;
        return text(n, t.length(), t.vocab(), t.padIndex(), r);
    }

    /** Two soft blobs and a stripe pattern per image, roughly zero mean and unit scale. */
    static Batch.Images images(int n, int size, int channels, Random r) {
        float[] px = new float[n * size * size * channels];
        for (int s = 0; s < n; s++) {
            double cx = r.nextDouble() * size, cy = r.nextDouble() * size, dx = r.nextDouble() * size, dy = r.nextDouble() * size;
            double freq = 0.2 + 0.4 * r.nextDouble(), phase = r.nextDouble() * 6.28;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    double v = Math.exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 20.0)
                            - Math.exp(-((x - dx) * (x - dx) + (y - dy) * (y - dy)) / 12.0)
                            + 0.5 * Math.sin(freq * (x + y) + phase);
                    for (int c = 0; c < channels; c++) px[((s * size + y) * size + x) * channels + c] = (float) (v + 0.05 * r.nextGaussian());
                }
            }
        }
        return new Batch.Images(n, size, size, channels, px);
    }

    /** A few harmonics with a slow amplitude envelope plus a little noise. */
    static Batch.Audio audio(int n, int samples, Random r) {
        float[] w = new float[n * samples];
        for (int s = 0; s < n; s++) {
            double f0 = 100 + 300 * r.nextDouble(), env = 1 + 3 * r.nextDouble();
            for (int i = 0; i < samples; i++) {
                double t = i / 16000.0;
                double v = Math.sin(2 * Math.PI * f0 * t) + 0.5 * Math.sin(2 * Math.PI * 2 * f0 * t + 1)
                        + 0.25 * Math.sin(2 * Math.PI * 3 * f0 * t + 2);
                w[s * samples + i] = (float) (v * (0.6 + 0.4 * Math.sin(2 * Math.PI * env * t)) + 0.05 * r.nextGaussian());
            }
        }
        return new Batch.Audio(n, samples, w);
    }

    /** Arithmetic progressions over a small part of the vocabulary, avoiding the padding id. */
    static Batch.Text text(int n, int length, int vocab, int pad, Random r) {
        int[] ids = new int[n * length];
        int range = Math.min(vocab, 200);
        for (int s = 0; s < n; s++) {
            int a = r.nextInt(range), step = 1 + r.nextInt(5);
            for (int i = 0; i < length; i++) {
                int id = 2 + Math.floorMod(a + step * i, range - 2);
                ids[s * length + i] = id == pad ? id + 1 : id;
            }
        }
        return new Batch.Text(n, length, ids);
    }
}

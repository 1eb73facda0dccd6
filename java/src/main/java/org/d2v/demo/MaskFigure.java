package org.d2v.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.d2v.backend.RandomStream;
import org.d2v.data.image.Images;
import org.d2v.data.image.LabeledImages;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.data2vec.mask.MaskBatch;
import org.d2v.data2vec.mask.Masker;

/**
 * masks.png: a few test images, one mask of the model's masker per image drawn on the patch grid
 * (white = visible to the student, black = masked and predicted), and what the student sees.
 */
public final class MaskFigure {
    public static final String FILE = "masks.png";
    private MaskFigure() {}

    public static void write(Path out, LabeledImages set, Masker masker, Data2VecConfig cfg, int count, long seed) throws IOException {
        if (count < 1) return;
        ModalityConfig.Image m = (ModalityConfig.Image) cfg.modality();
        Images images = set.images();
        int n = Math.min(count, images.count()), h = images.height(), w = images.width(), g = m.grid(), p = m.patch();
        MaskBatch masks = masker.sample(n, m.tokens(), new RandomStream(seed));
        List<List<Charts.Tile>> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] img = images.image(i), grid = new float[h * w], seen = img.clone();
            float lo = Float.POSITIVE_INFINITY;
            for (float v : img) lo = Math.min(lo, v);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int t = Math.min(y / p, g - 1) * g + Math.min(x / p, g - 1);
                    boolean masked = masks.mask()[i * m.tokens() + t] == 1;
                    grid[y * w + x] = masked ? 0 : 1;
                    if (masked) seen[y * w + x] = lo;
                }
            }
            rows.add(List.of(new Charts.Tile(img, h, w), new Charts.Tile(grid, h, w), new Charts.Tile(seen, h, w)));
        }
        String title = String.format("inverse block masks: %d of %d patches masked", masks.masked(), m.tokens());
        Charts.tiles(out, title, List.of("image", "mask (black = masked)", "student input"), rows, 4);
    }
}

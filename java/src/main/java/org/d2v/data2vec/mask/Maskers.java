package org.d2v.data2vec.mask;

import org.d2v.data2vec.config.MaskConfig;
import org.d2v.data2vec.config.ModalityConfig;

/** The masker a configuration asks for (docs/algorithm.md §4): image → inverse 2-D blocks, audio → spans, text → random. */
public final class Maskers {
    private Maskers() {}

    public static Masker of(MaskConfig mask, ModalityConfig modality) {
        if (modality instanceof ModalityConfig.Image img) {
            if (!mask.inverse()) throw new IllegalArgumentException("image masking is inverse block masking (docs/algorithm.md §4.1); inverse=false is not supported");
            return new InverseBlockMasker2d(img.grid(), img.grid(), mask.prob(), mask.adjust(), mask.length());
        }
        if (mask.inverse()) throw new IllegalArgumentException("inverse masking is only defined for images (docs/algorithm.md §4)");
        if (modality instanceof ModalityConfig.Audio) return new SpanMasker1d(mask.prob(), mask.adjust(), mask.length());
        if (mask.length() != 1) throw new IllegalArgumentException("text masking is random (mask length 1, docs/algorithm.md §4.3), got length " + mask.length());
        return new RandomMasker(mask.prob());
    }
}

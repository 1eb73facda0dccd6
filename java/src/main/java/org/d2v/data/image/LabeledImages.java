package org.d2v.data.image;

/** Images with one class label each (labels in [0, classes)). */
public record LabeledImages(Images images, int[] labels, int classes) {
    public LabeledImages {
        if (images.count() != labels.length) {
            throw new IllegalArgumentException(images.count() + " images but " + labels.length + " labels");
        }
        for (int l : labels) {
            if (l < 0 || l >= classes) throw new IllegalArgumentException("label " + l + " outside [0, " + classes + ")");
        }
    }

    public int size() { return labels.length; }

    /** The first {@code n} examples (a copy). */
    public LabeledImages head(int n) {
        return new LabeledImages(images.head(n), java.util.Arrays.copyOf(labels, n), classes);
    }
}

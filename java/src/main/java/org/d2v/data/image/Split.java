package org.d2v.data.image;

/** The official train / test files of an IDX image set. */
public enum Split {
    TRAIN("train"), TEST("t10k");

    final String prefix;

    Split(String prefix) { this.prefix = prefix; }
}

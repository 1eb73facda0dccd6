package org.d2v.data.setup;

import org.d2v.data.InstalledSet;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code MANIFEST.sha256} (and its size/time stamps) in a set's folder, written by
 * {@link InstalledSet#record}: its presence marks a finished install; a later install verifies
 * every hash, and training checks the stamps each time it opens the set ({@link InstalledSet}).
 */
final class Manifest {
    static final String NAME = InstalledSet.MANIFEST;

    private Manifest() {}

    static void write(Path dir) throws IOException { InstalledSet.record(dir); }

    /** Verifies every entry's hash; returns the number of files checked. */
    static int verify(Path dir) throws IOException { return InstalledSet.verify(dir, InstalledSet.Mode.FULL).files(); }

    static boolean present(Path dir) { return InstalledSet.present(dir); }
}

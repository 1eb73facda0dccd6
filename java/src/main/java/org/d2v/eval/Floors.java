package org.d2v.eval;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/** Placeholder replaced below. */
public final class Floors {
    public Floors(Path root, PrintStream out) {}
    public void run(List<String> sets, boolean full) { throw new UnsupportedOperationException("floors: not yet"); }
}

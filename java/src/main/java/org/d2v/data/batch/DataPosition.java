package org.d2v.data.batch;

/**
 * Where a {@link BatchLoader} stands: the epoch and the index, within that epoch's seeded
 * permutation, of the first example of the next batch. Together with the loader's seed this is
 * everything a checkpoint needs to resume with exactly the same next batch.
 */
public record DataPosition(long epoch, long index) {
    public static final DataPosition START = new DataPosition(0, 0);

    public DataPosition {
        if (epoch < 0 || index < 0) throw new IllegalArgumentException("negative position " + epoch + ":" + index);
    }

    /** "epoch:index", the form saved in checkpoints. */
    @Override public String toString() { return epoch + ":" + index; }

    public static DataPosition parse(String s) {
        String[] f = s.trim().split(":");
        if (f.length != 2) throw new IllegalArgumentException("data position must be 'epoch:index', got '" + s + "'");
        return new DataPosition(Long.parseLong(f[0]), Long.parseLong(f[1]));
    }
}

package org.d2v.eval;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.d2v.data.audio.SpokenDigit;
import org.d2v.data.audio.Wav;
import org.d2v.data2vec.Batch;

/**
 * Labeled 16 kHz waveforms (raw samples; the model normalises each utterance itself) as a
 * {@link LabeledSet}: clips of equal length share a batch, none is padded or cropped.
 */
public record SpeechSet(List<float[]> waves, int[] labels, int classes, String what) implements LabeledSet {
    public SpeechSet {
        if (waves.size() != labels.length) throw new IllegalArgumentException(waves.size() + " clips but " + labels.length + " labels");
        waves = List.copyOf(waves);
    }

    /** Reads the clips' WAV files (16 kHz mono 16-bit, else an error naming the file); label = the digit. */
    public static SpeechSet digits(List<SpokenDigit> clips, String what) throws IOException {
        List<float[]> w = new ArrayList<>();
        int[] y = new int[clips.size()];
        for (int i = 0; i < clips.size(); i++) {
            w.add(Wav.read(clips.get(i).file()));
            y[i] = clips.get(i).digit();
        }
        return new SpeechSet(w, y, 10, what);
    }

    @Override public int size() { return waves.size(); }

    @Override
    public String describe() { return size() + " " + what; }

    @Override
    public List<Group> groups(int[] indices, int maxBatch) {
        List<Group> out = new ArrayList<>();
        for (int[] g : LengthGroups.of(indices, i -> waves.get(i).length, maxBatch)) {
            int n = waves.get(g[0]).length;
            float[] x = new float[g.length * n];
            for (int i = 0; i < g.length; i++) System.arraycopy(waves.get(g[i]), 0, x, i * n, n);
            out.add(new Group(g, new Batch.Audio(g.length, n, x)));
        }
        return out;
    }

    @Override
    public SpeechSet subset(int[] indices) {
        List<float[]> w = new ArrayList<>();
        int[] y = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            w.add(waves.get(indices[i]));
            y[i] = labels[indices[i]];
        }
        return new SpeechSet(w, y, classes, what);
    }
}

package org.d2v.data2vec;

/**
 * One batch of raw inputs, as host arrays (the model uploads them). Channels-last everywhere.
 */
public sealed interface Batch {
    int size();

    /** images [size, height, width, channels], values already normalised. */
    record Images(int size, int height, int width, int channels, float[] pixels) implements Batch {
        public Images {
            if (pixels.length != size * height * width * channels) throw new IllegalArgumentException("pixels do not match the shape");
        }
    }

    /** waveforms [size, samples] at 16 kHz (cropped to a common length). */
    record Audio(int size, int samples, float[] waves) implements Batch {
        public Audio {
            if (waves.length != size * samples) throw new IllegalArgumentException("waves do not match the shape");
        }
    }

    /** token ids [size, length]. */
    record Text(int size, int length, int[] tokens) implements Batch {
        public Text {
            if (tokens.length != size * length) throw new IllegalArgumentException("tokens do not match the shape");
        }
    }
}

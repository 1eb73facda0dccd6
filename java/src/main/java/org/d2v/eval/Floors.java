package org.d2v.eval;

import org.d2v.data.Split;
import org.d2v.data.audio.SpeechSets;
import org.d2v.data.audio.SpokenDigit;
import org.d2v.data.audio.Wav;
import org.d2v.data.image.ImageSets;
import org.d2v.data.image.LabeledImages;
import org.d2v.data.text.Sentence;
import org.d2v.data.text.TextSets;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code d2v data floors}: the scores of raw features under the same probes a learned
 * representation will face (docs/data.md). A representation is only worth something above these.
 */
public final class Floors {
    public static final int SPEECH_BANDS = 64, SPEECH_SEGMENTS = 3;

    private final Path root;
    private final PrintStream out;
    private final LinearProbe probe = LinearProbe.builder().build();

    public Floors(Path root, PrintStream out) {
        this.root = root;
        this.out = out;
    }

    public void run(List<String> sets, boolean full) throws IOException {
        for (String s : sets) {
            switch (s) {
                case ImageSets.FASHION_MNIST, ImageSets.MNIST -> images(s, full);
                case SpeechSets.SET -> speech();
                case TextSets.SET -> sentiment();
                default -> throw new IllegalArgumentException("no floor defined for set '" + s + "'");
            }
        }
    }

    private void images(String set, boolean full) throws IOException {
        LabeledImages train = set.equals(ImageSets.MNIST) ? ImageSets.mnist(root, org.d2v.data.image.Split.TRAIN)
                : ImageSets.fashionMnist(root, org.d2v.data.image.Split.TRAIN);
        LabeledImages test = set.equals(ImageSets.MNIST) ? ImageSets.mnist(root, org.d2v.data.image.Split.TEST)
                : ImageSets.fashionMnist(root, org.d2v.data.image.Split.TEST);
        imageFloor(set, train.head(10_000), test.head(2_000), true);
        if (full) imageFloor(set, train, test, false);
    }

    private void imageFloor(String set, LabeledImages train, LabeledImages test, boolean withNn) {
        int dim = train.images().imageSize();
        long t0 = System.nanoTime();
        ProbeResult r = probe.evaluate(train.images().pixels(), train.labels(), test.images().pixels(), test.labels(), dim, train.classes());
        report(set + " raw pixels " + train.size() + "/" + test.size(), "linear", r.testAccuracy(), r + String.format(" %.0f s", secs(t0)));
        if (withNn) {
            t0 = System.nanoTime();
            double nn = NearestNeighbor.accuracy(train.images().pixels(), train.labels(), test.images().pixels(), test.labels(), dim);
            report(set + " raw pixels " + train.size() + "/" + test.size(), "1-NN", nn, String.format("%.0f s", secs(t0)));
        }
    }

    private void speech() throws IOException {
        List<SpokenDigit> all = SpeechSets.spokenDigits(root);
        Split<SpokenDigit> split = SpeechSets.heldOutVoices(all);
        long t0 = System.nanoTime();
        float[] trX = features(split.train()), teX = features(split.test());
        int dim = SpectralFeatures.dim(SPEECH_BANDS, SPEECH_SEGMENTS);
        int[] trY = split.train().stream().mapToInt(SpokenDigit::digit).toArray();
        int[] teY = split.test().stream().mapToInt(SpokenDigit::digit).toArray();
        String name = "spoken digits, log-spectrum " + dim + "-d, held-out voices " + SpeechSets.DEFAULT_TEST_GROUPS
                + " " + split.train().size() + "/" + split.test().size();
        ProbeResult r = probe.evaluate(trX, trY, teX, teY, dim, 10);
        report(name, "linear", r.testAccuracy(), r + String.format(" %.0f s", secs(t0)));
        report(name, "1-NN", NearestNeighbor.accuracy(trX, trY, teX, teY, dim), "");
        // Per held-out group, so an easy group cannot hide a hard one.
        for (String prefix : List.of("espeak/en-gb-scotland+", "+f4", "+klatt", "flite/slt", "flite/awb")) {
            Split<SpokenDigit> one = SpeechSets.heldOutVoices(all, List.of(prefix));
            float[] a = features(one.train()), b = features(one.test());
            int[] ay = one.train().stream().mapToInt(SpokenDigit::digit).toArray();
            int[] by = one.test().stream().mapToInt(SpokenDigit::digit).toArray();
            ProbeResult p = probe.evaluate(a, ay, b, by, dim, 10);
            report("spoken digits, held out only " + prefix + " " + one.train().size() + "/" + one.test().size(), "linear", p.testAccuracy(), p.toString());
        }
        // Across engines: train on espeak, test on flite (docs/data.md: chance with raw features).
        Split<SpokenDigit> eng = Split.by(all, c -> c.engine().equals("flite"));
        float[] a = features(eng.train()), b = features(eng.test());
        ProbeResult p = probe.evaluate(a, eng.train().stream().mapToInt(SpokenDigit::digit).toArray(), b,
                eng.test().stream().mapToInt(SpokenDigit::digit).toArray(), dim, 10);
        report("spoken digits, espeak -> flite " + eng.train().size() + "/" + eng.test().size(), "linear", p.testAccuracy(), p.toString());
    }

    private static float[] features(List<SpokenDigit> clips) throws IOException {
        int dim = SpectralFeatures.dim(SPEECH_BANDS, SPEECH_SEGMENTS);
        float[] x = new float[clips.size() * dim];
        for (int i = 0; i < clips.size(); i++) {
            System.arraycopy(SpectralFeatures.of(Wav.read(clips.get(i).file()), SPEECH_BANDS, SPEECH_SEGMENTS), 0, x, i * dim, dim);
        }
        return x;
    }

    private void sentiment() throws IOException {
        List<Sentence> all = TextSets.sentiment(root);
        for (String domain : TextSets.DOMAINS) {
            Split<Sentence> s = TextSets.leaveDomainOut(all, domain);
            List<String> tr = s.train().stream().map(Sentence::text).toList(), te = s.test().stream().map(Sentence::text).toList();
            BagOfWords bow = BagOfWords.fit(tr);
            ProbeResult r = probe.evaluate(bow.transform(tr), s.train().stream().mapToInt(Sentence::label).toArray(), bow.transform(te),
                    s.test().stream().mapToInt(Sentence::label).toArray(), bow.dim(), 2);
            report("sentiment bag-of-words (" + bow.dim() + " words), test on " + domain + " " + tr.size() + "/" + te.size(), "linear",
                    r.testAccuracy(), r.toString());
        }
    }

    private void report(String what, String probeName, double acc, String detail) {
        out.printf("%-90s %-6s %.4f   %s%n", what, probeName, acc, detail);
        out.flush();
    }

    private static double secs(long t0) { return (System.nanoTime() - t0) / 1e9; }
}

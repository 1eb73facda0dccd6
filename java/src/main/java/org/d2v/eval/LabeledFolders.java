package org.d2v.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.d2v.data.DataFormatException;
import org.d2v.data.audio.AudioIndex;
import org.d2v.data.audio.Wav;
import org.d2v.data.image.ImageFiles;
import org.d2v.data.image.ImageFolder;
import org.d2v.data.image.ImagePipeline;
import org.d2v.data.image.Images;
import org.d2v.data.image.LabeledImages;
import org.d2v.data.text.TextFiles;
import org.d2v.data.text.Tokenizer;
import org.d2v.data.text.Utf8;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;

/**
 * The user's own labeled data as a probe / fine-tuning task:
 * <ul>
 * <li>images: torchvision's ImageFolder tree ({@code root/<class>/...}, classes sorted by name),
 *     each image through the eval transform ({@link ImagePipeline#eval}: resize + centre crop to
 *     the model's size, ImageNet normalisation);</li>
 * <li>audio: class sub-folders of WAV files (16 kHz mono), whole clips;</li>
 * <li>text: class sub-folders of .txt files (one example per file), or a {@code .tsv} of
 *     {@code label<TAB>text} lines (classes = the distinct labels, sorted).</li>
 * </ul>
 * Held-out split: the folder (or file) given as test data if there is one (its classes matched to
 * the training classes by name); otherwise a deterministic split of the data itself: within each
 * class, in path (or line) order, every fifth example (the 5th, 10th, ...) is a test example.
 * Labeled sets are decoded into memory (streaming is for pretraining).
 */
public final class LabeledFolders {
    /** Every {@code TEST_EVERY}-th example of a class is held out when no test data is given. */
    public static final int TEST_EVERY = 5;

    private LabeledFolders() {}

    /** One example before decoding: where it is (a file, or a line of a .tsv) and its class name. */
    private record Example(Path file, String text, String label) {}

    /** The probe task of {@code data} (and {@code test}, may be null) for a model of {@code cfg}. */
    public static ProbeTask task(Path data, Path test, Data2VecConfig cfg, Tokenizer tok) throws IOException {
        List<Example> train = examples(data, cfg.modality()), held;
        if (test != null) {
            held = examples(test, cfg.modality());
        } else {
            List<Example> tr = new ArrayList<>();
            held = new ArrayList<>();
            Map<String, Integer> seen = new TreeMap<>();
            for (Example e : train) {
                int k = seen.merge(e.label(), 1, Integer::sum);
                (k % TEST_EVERY == 0 ? held : tr).add(e);
            }
            train = tr;
        }
        List<String> classes = train.stream().map(Example::label).distinct().sorted().toList();
        if (classes.size() < 2) throw new DataFormatException(data, "needs at least two classes for a probe, found " + classes);
        if (held.isEmpty()) throw new DataFormatException(test != null ? test : data, "no test examples (every class needs " + TEST_EVERY + " or more examples for the held-out split, or give test data)");
        for (Example e : held) {
            if (!classes.contains(e.label())) throw new DataFormatException(test != null ? test : data, "test class '" + e.label() + "' is not among the training classes " + classes);
        }
        String name = "your data " + data + (test != null ? ", test " + test : ", every " + TEST_EVERY + "th example of each class held out");
        ModalityConfig m = cfg.modality();
        if (m instanceof ModalityConfig.Image img) {
            return new ProbeTask(name, images(train, classes, img), images(held, classes, img), RawFeatures.pixels(), Double.NaN, 0);
        }
        if (m instanceof ModalityConfig.Audio) {
            return new ProbeTask(name, audio(train, classes, "training clips"), audio(held, classes, "test clips"),
                    RawFeatures.logSpectrum(Floors.SPEECH_BANDS, Floors.SPEECH_SEGMENTS), Double.NaN, 0);
        }
        if (tok == null) throw new IllegalArgumentException("a text model needs its tokenizer");
        int len = ((ModalityConfig.Text) m).length();
        return new ProbeTask(name, text(train, classes, tok, len, "training texts"), text(held, classes, tok, len, "test texts"), RawFeatures.bagOfWords(), Double.NaN, 0);
    }

    private static List<Example> examples(Path path, ModalityConfig m) throws IOException {
        List<Example> out = new ArrayList<>();
        if (m instanceof ModalityConfig.Image) {
            ImageFolder f = ImageFolder.classes(path);
            for (int i = 0; i < f.size(); i++) out.add(new Example(f.files().get(i), null, f.classes().get(f.labels()[i])));
        } else if (m instanceof ModalityConfig.Audio) {
            AudioIndex a = AudioIndex.classes(path);
            for (int i = 0; i < a.size(); i++) out.add(new Example(a.clips().get(i).file(), null, a.classes().get(a.labels()[i])));
        } else if (Files.isRegularFile(path)) {
            Utf8.forEachLine(path, (line, n, offset) -> {
                if (line.isBlank()) return;
                int tab = line.indexOf('\t');
                if (tab < 1) throw new DataFormatException(path, "line " + n + ": expected 'label<TAB>text'");
                out.add(new Example(path, line.substring(tab + 1), line.substring(0, tab).strip()));
            });
            if (out.isEmpty()) throw new DataFormatException(path, "no labeled lines");
        } else {
            if (!Files.isDirectory(path)) throw new DataFormatException(path, "no such file or folder");
            List<Path> classDirs;
            try (Stream<Path> s = Files.list(path)) {
                classDirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
            }
            if (classDirs.size() < 2) {
                throw new DataFormatException(path, "a labeled text folder needs one sub-folder of .txt files per class (at least two), found " + classDirs.size()
                        + "; or give a .tsv of label<TAB>text lines");
            }
            for (Path c : classDirs) {
                List<Path> files;
                try (Stream<Path> s = Files.walk(c)) {
                    files = s.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().endsWith(".txt")).sorted().toList();
                }
                if (files.isEmpty()) throw new DataFormatException(c, "class folder without .txt files");
                for (Path f : files) out.add(new Example(f, TextFiles.read(f).strip(), c.getFileName().toString()));
            }
        }
        return out;
    }

    private static ImageSet images(List<Example> ex, List<String> classes, ModalityConfig.Image m) throws IOException {
        ImagePipeline pipe = new ImagePipeline(m.size(), m.channels());
        float[] px = new float[ex.size() * pipe.imageSize()];
        int[] y = new int[ex.size()];
        for (int i = 0; i < ex.size(); i++) {
            System.arraycopy(pipe.eval(ImageFiles.read(ex.get(i).file(), m.channels())), 0, px, i * pipe.imageSize(), pipe.imageSize());
            y[i] = classes.indexOf(ex.get(i).label());
        }
        return new ImageSet(new LabeledImages(new Images(ex.size(), m.size(), m.size(), m.channels(), px), y, classes.size()));
    }

    private static SpeechSet audio(List<Example> ex, List<String> classes, String what) throws IOException {
        List<float[]> w = new ArrayList<>();
        int[] y = new int[ex.size()];
        for (int i = 0; i < ex.size(); i++) {
            w.add(Wav.read(ex.get(i).file()));
            y[i] = classes.indexOf(ex.get(i).label());
        }
        return new SpeechSet(w, y, classes.size(), what);
    }

    private static TextSet text(List<Example> ex, List<String> classes, Tokenizer tok, int maxTokens, String what) {
        int[] y = new int[ex.size()];
        for (int i = 0; i < ex.size(); i++) y[i] = classes.indexOf(ex.get(i).label());
        return TextSet.of(ex.stream().map(Example::text).toList(), y, classes.size(), tok, maxTokens, what);
    }
}

package org.d2v.demo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.d2v.data.Split;
import org.d2v.data.audio.SpeechSets;
import org.d2v.data.audio.SpokenDigit;
import org.d2v.data.DataInputs;
import org.d2v.data.text.ShuffledWords;
import org.d2v.data.text.Tokenizer;
import org.d2v.data.text.Sentence;
import org.d2v.data.text.TextSets;
import org.d2v.data2vec.config.Data2VecConfig;
import org.d2v.data2vec.config.ModalityConfig;
import org.d2v.eval.Floors;
import org.d2v.eval.ImageSet;
import org.d2v.eval.LabeledFolders;
import org.d2v.eval.ProbeTask;
import org.d2v.eval.RawFeatures;
import org.d2v.eval.SpeechSet;
import org.d2v.eval.TextSet;

/**
 * The downstream tasks of each modality (docs/data.md), with honest splits: Fashion-MNIST's official
 * test set; spoken digits with whole voices held out; sentiment with a whole domain held out.
 */
public final class ProbeTasks {
    /** Raw-pixel linear probe on Fashion-MNIST, 10k train / 2k test (docs/data.md). */
    public static final double FASHION_FLOOR = 0.818;
    /** The margin over the same model at random initialisation, for images. */
    public static final double FASHION_MIN_GAIN = 0.05;

    private ProbeTasks() {}

    /** Fashion-MNIST (standardised as the demo pretrains on it): official train and test splits. */
    public static ProbeTask fashionMnist(FashionData data) {
        return new ProbeTask("Fashion-MNIST test", new ImageSet(data.train()), new ImageSet(data.test()), RawFeatures.pixels(),
                FASHION_FLOOR, FASHION_MIN_GAIN);
    }

    /**
     * The speech tasks, each clip read once for both: spoken digits with the voices of
     * {@link SpeechSets#DEFAULT_TEST_GROUPS} held out (espeak's klatt variants and flite's slt:
     * about 0.4 with raw features, docs/data.md) — the task the demo's bar and fine-tuning use — then
     * across engines, trained on espeak-ng and tested on flite (docs/data.md: chance with raw features).
     * The floor is the same probe on log-spectra, measured in the run.
     */
    public static List<ProbeTask> speech(Path dataRoot) throws IOException {
        List<SpokenDigit> clips = SpeechSets.spokenDigits(dataRoot);
        SpeechSet all = SpeechSet.digits(clips, "spoken digits");
        String held = String.join(", ", SpeechSets.DEFAULT_TEST_GROUPS);
        return List.of(digits("spoken digits, held-out voices " + held, clips, all, SpeechSets.inGroups(SpeechSets.DEFAULT_TEST_GROUPS),
                        "spoken digits of held-out voices"),
                digits("spoken digits, espeak-ng -> flite", clips, all, c -> c.engine().equals("flite"), "flite spoken digits"));
    }

    private static ProbeTask digits(String name, List<SpokenDigit> clips, SpeechSet all, Predicate<SpokenDigit> isTest, String testWhat) {
        Split<Integer> s = Split.by(IntStream.range(0, clips.size()).boxed().toList(), i -> isTest.test(clips.get(i)));
        SpeechSet test = all.subset(s.test().stream().mapToInt(Integer::intValue).toArray());
        return new ProbeTask(name, all.subset(s.train().stream().mapToInt(Integer::intValue).toArray()),
                new SpeechSet(test.waves(), test.labels(), test.classes(), testWhat),
                RawFeatures.logSpectrum(Floors.SPEECH_BANDS, Floors.SPEECH_SEGMENTS), Double.NaN, 0);
    }

    /** Sentiment with {@code domain} held out: train on the other two domains; the floor is bag of words, measured in the run. */
    public static ProbeTask sentiment(List<Sentence> all, String domain, Tokenizer bpe, int maxTokens) {
        if (!TextSets.DOMAINS.contains(domain)) throw new IllegalArgumentException("unknown sentiment domain '" + domain + "'; known: " + TextSets.DOMAINS);
        Split<Sentence> s = TextSets.leaveDomainOut(all, domain);
        return new ProbeTask("sentiment, held-out domain " + domain, text(s.train(), bpe, maxTokens, "sentences of the other domains"),
                text(s.test(), bpe, maxTokens, domain + " sentences"), RawFeatures.bagOfWords(), Double.NaN, 0);
    }

    /** The domain whose sentences test the word-order task (the other two train it). */
    public static final String WORD_ORDER_TEST_DOMAIN = "yelp";

    /**
     * Word order ({@link ShuffledWords}): each sentiment sentence once, as written or with its words
     * after the first shuffled; trained on the sentences of two domains, tested on those of
     * {@link #WORD_ORDER_TEST_DOMAIN}. A bag of words is at chance by construction (its probe is
     * measured in the run), so this is the text task where the raw floor is not the ceiling.
     */
    public static ProbeTask wordOrder(List<Sentence> all, Tokenizer bpe, int maxTokens) {
        Split<Sentence> s = TextSets.leaveDomainOut(all, WORD_ORDER_TEST_DOMAIN);
        ShuffledWords.Examples train = ShuffledWords.of(s.train().stream().map(Sentence::text).toList(), 1, bpe, maxTokens);
        ShuffledWords.Examples test = ShuffledWords.of(s.test().stream().map(Sentence::text).toList(), 2, bpe, maxTokens);
        return new ProbeTask("word order (as written or shuffled), held-out domain " + WORD_ORDER_TEST_DOMAIN,
                TextSet.of(train.texts(), train.labels(), 2, bpe, maxTokens, "sentences of the other domains, half shuffled"),
                TextSet.of(test.texts(), test.labels(), 2, bpe, maxTokens, WORD_ORDER_TEST_DOMAIN + " sentences, half shuffled"),
                RawFeatures.bagOfWords(), Double.NaN, 0);
    }

    private static TextSet text(List<Sentence> s, Tokenizer bpe, int maxTokens, String what) {
        return TextSet.of(s.stream().map(Sentence::text).toList(), s.stream().mapToInt(Sentence::label).toArray(), 2, bpe, maxTokens, what);
    }

    /**
     * The tasks of {@code data}: the installed sets' tasks ({@link #forModel}) when {@code data} is
     * a data folder of {@code d2v data install} holding the modality's set, else the user's labeled
     * folder (or text .tsv) as one task, held out by {@code testData} when given
     * ({@link LabeledFolders}: the split rule).
     */
    public static List<ProbeTask> forData(Data2VecConfig cfg, Path data, Path testData, Tokenizer tok, List<String> domains) throws IOException {
        if (testData == null && DataInputs.installed(data, cfg.modality().kind())) return forModel(cfg, data, tok, domains);
        if (tok != null && cfg.modality() instanceof ModalityConfig.Text t && tok.vocabSize() > t.vocab()) {
            throw new IllegalArgumentException("the tokenizer has " + tok.vocabSize() + " ids, the model only " + t.vocab());
        }
        return List.of(LabeledFolders.task(data, testData, cfg, tok));
    }

    /**
     * The tasks a model of {@code cfg}'s modality is probed on: images Fashion-MNIST, audio the
     * spoken digits of held-out voices and across engines, text sentiment with each domain held out
     * in turn ({@code domains}, default all) and, when no domain is named, word order.
     * Text needs the run's tokenizer.
     */
    public static List<ProbeTask> forModel(Data2VecConfig cfg, Path dataRoot, Tokenizer bpe, List<String> domains) throws IOException {
        ModalityConfig m = cfg.modality();
        if (m instanceof ModalityConfig.Image) return List.of(fashionMnist(FashionData.load(dataRoot)));
        if (m instanceof ModalityConfig.Audio) return speech(dataRoot);
        ModalityConfig.Text t = (ModalityConfig.Text) m;
        if (bpe == null) throw new IllegalArgumentException("a text model needs its tokenizer");
        if (bpe.vocabSize() > t.vocab()) throw new IllegalArgumentException("the tokenizer has " + bpe.vocabSize() + " ids, the model only " + t.vocab());
        List<Sentence> all = TextSets.sentiment(dataRoot);
        List<ProbeTask> out = new ArrayList<>();
        for (String d : domains.isEmpty() ? TextSets.DOMAINS : domains) out.add(sentiment(all, d, bpe, t.length()));
        if (domains.isEmpty()) out.add(wordOrder(all, bpe, t.length()));
        return out;
    }
}

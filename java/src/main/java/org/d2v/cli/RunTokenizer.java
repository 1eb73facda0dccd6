package org.d2v.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.d2v.data.text.Tokenizer;
import org.d2v.data.text.Tokenizers;
import org.d2v.train.CheckpointException;
import org.d2v.train.RunFiles;
import org.d2v.train.TrainingData;

/**
 * The tokenizer of a resumed text run: the one saved in the run folder, which is part of the model
 * (the data's installed tokenizer or a --tokenizer given again may differ, and would silently feed
 * the model other ids). It is loaded, and so validated, before anything is written; a --tokenizer
 * given on the command line must have the same content, or the resume is refused naming both.
 */
final class RunTokenizer {
    private RunTokenizer() {}

    /** The tokenizer to read the data of a resumed run with (null: none, a run on other than text, or on generated tokens). */
    static Path forResume(Path runDir, String modality, String data, Path given) throws IOException {
        if (!"text".equals(modality) || TrainingData.GENERATED.equals(data)) return null;
        Path own = Tokenizers.savedIn(runDir);
        if (own == null) {
            throw new CheckpointException(runDir.resolve(RunFiles.TOKENIZER), "missing: this text run's tokenizer is saved with the run, and "
                    + "without it the data cannot be read as the run read it (restore the file, or start a new run)");
        }
        Tokenizer ownTok = Tokenizers.load(own); // a damaged one is an error naming the run's file
        if (given != null) {
            Tokenizer other = Tokenizers.load(given);
            if (!sameContent(ownTok, other)) {
                throw new IllegalArgumentException("--tokenizer: " + given + " is not the tokenizer this run was trained with (" + own
                        + "); a run keeps its own tokenizer: leave --tokenizer out, or start a new run with --run");
            }
        }
        return own;
    }

    /** Whether two tokenizers save to the same bytes (the exact test: same merges, vocabulary and specials). */
    static boolean sameContent(Tokenizer a, Tokenizer b) throws IOException {
        Path da = Files.createTempDirectory("d2v-tokenizer"), db = Files.createTempDirectory("d2v-tokenizer");
        try {
            a.saveTo(da);
            b.saveTo(db);
            List<Path> fa = files(da), fb = files(db);
            if (!fa.equals(fb)) return false;
            for (Path f : fa) if (!Arrays.equals(Files.readAllBytes(da.resolve(f)), Files.readAllBytes(db.resolve(f)))) return false;
            return true;
        } finally {
            delete(da);
            delete(db);
        }
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).map(root::relativize).sorted().toList();
        }
    }

    private static void delete(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}

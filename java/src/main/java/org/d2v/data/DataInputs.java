package org.d2v.data;

import org.d2v.data.image.ImageFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * What a {@code --data} path is, recognised from the path itself: an installed data folder of
 * {@code d2v data install}, an IDX pair, a folder of images, a fairseq audio manifest, a folder of
 * WAV files, a folder of .txt files or a one-document-per-line file. A path that is none of the
 * kinds the modality accepts is an error that names it and lists the kinds.
 */
public final class DataInputs {
    /** The recognised kinds. */
    public enum Kind {
        INSTALLED("an installed data folder of 'd2v data install' (holding fashion-mnist/, speech/ or text/)"),
        IDX("an IDX images file (*-images-idx3-ubyte[.gz]) or a folder holding train-images-idx3-ubyte[.gz]"),
        IMAGE_FOLDER("a folder of PNG/JPEG/BMP/GIF images, searched recursively (class sub-folders are fine)"),
        AUDIO_MANIFEST("a fairseq manifest (.tsv: the root folder, then relative/path<TAB>num_samples per line)"),
        WAV_FOLDER("a folder of .wav files (16 kHz mono, 16-bit PCM or 32-bit float), searched recursively"),
        TEXT_FOLDER("a folder of .txt files (UTF-8), searched recursively, one document per file"),
        TEXT_LINES("a UTF-8 text file with one document per line");

        public final String description;

        Kind(String description) { this.description = description; }
    }

    /** A recognised input. */
    public record Input(Kind kind, Path path) {}

    private DataInputs() {}

    /** The kinds {@code modality} ("image", "audio", "text") accepts for pretraining. */
    public static List<Kind> accepted(String modality) {
        return switch (modality) {
            case "image" -> List.of(Kind.INSTALLED, Kind.IDX, Kind.IMAGE_FOLDER);
            case "audio" -> List.of(Kind.INSTALLED, Kind.AUDIO_MANIFEST, Kind.WAV_FOLDER);
            case "text" -> List.of(Kind.INSTALLED, Kind.TEXT_FOLDER, Kind.TEXT_LINES);
            default -> throw new IllegalArgumentException("unknown modality " + modality);
        };
    }

    /** Recognises {@code path} as pretraining data of {@code modality}; throws naming it and the accepted kinds. */
    public static Input detect(Path path, String modality) throws DataFormatException {
        if (!Files.exists(path)) throw refuse(path, modality, "no such file or folder");
        try {
            String why = null;
            if (Files.isDirectory(path) && installed(path, modality)) return new Input(Kind.INSTALLED, path);
            switch (modality) {
                case "image" -> {
                    if (Files.isRegularFile(path) && name(path).contains("-images-idx3-ubyte")) return new Input(Kind.IDX, path);
                    if (Files.isDirectory(path)) {
                        Path idx = idxIn(path);
                        if (idx != null) return new Input(Kind.IDX, idx);
                        if (any(path, ImageFiles::isImage)) return new Input(Kind.IMAGE_FOLDER, path);
                        why = "the folder holds no image files";
                    } else {
                        why = "a single file that is not an IDX images file";
                    }
                }
                case "audio" -> {
                    if (Files.isRegularFile(path) && name(path).endsWith(".tsv")) return new Input(Kind.AUDIO_MANIFEST, path);
                    if (Files.isDirectory(path)) {
                        if (any(path, p -> name(p).endsWith(".wav"))) return new Input(Kind.WAV_FOLDER, path);
                        why = any(path, p -> name(p).endsWith(".flac"))
                                ? "the folder holds FLAC files only: not supported (no maintained pure-Java FLAC decoder); convert them to 16 kHz WAV"
                                : "the folder holds no .wav files";
                    } else {
                        why = "a single file that is not a .tsv manifest";
                    }
                }
                case "text" -> {
                    if (Files.isRegularFile(path)) return new Input(Kind.TEXT_LINES, path);
                    if (any(path, p -> name(p).endsWith(".txt"))) return new Input(Kind.TEXT_FOLDER, path);
                    why = "the folder holds no .txt files";
                }
                default -> throw new IllegalArgumentException("unknown modality " + modality);
            }
            throw refuse(path, modality, why);
        } catch (IOException e) {
            if (e instanceof DataFormatException d) throw d;
            throw new DataFormatException(path, "cannot be read: " + e.getMessage(), e);
        }
    }

    /** Whether {@code dir} is a data root of {@code d2v data install} with the set of {@code modality}. */
    public static boolean installed(Path dir, String modality) {
        return switch (modality) {
            case "image" -> Files.isDirectory(dir.resolve("fashion-mnist"));
            case "audio" -> Files.isRegularFile(dir.resolve("speech/pretrain/index.tsv"));
            case "text" -> Files.isDirectory(dir.resolve("text/corpus"));
            default -> false;
        };
    }

    private static DataFormatException refuse(Path path, String modality, String why) {
        StringBuilder b = new StringBuilder("not usable as " + modality + " data (" + why + "); accepted:");
        for (Kind k : accepted(modality)) b.append("\n  - ").append(k.description);
        b.append("\n  - 'generated' (synthetic signals of the model's shape)");
        return new DataFormatException(path, b.toString());
    }

    private static Path idxIn(Path dir) {
        for (String n : new String[] {"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"}) {
            if (Files.isRegularFile(dir.resolve(n))) return dir.resolve(n);
        }
        return null;
    }

    private static boolean any(Path dir, java.util.function.Predicate<Path> test) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).anyMatch(test);
        }
    }

    private static String name(Path p) { return p.getFileName().toString().toLowerCase(Locale.ROOT); }
}

package org.d2v.data.image;

import org.d2v.data.DataFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * An index of image files (paths only, nothing decoded: a folder larger than memory is fine),
 * either a flat folder for pretraining or torchvision's ImageFolder layout for labeled sets:
 * {@code root/<class>/**}{@code /*.png}, classes sorted by folder name, label = position in that
 * order, files of each class found recursively and sorted by path.
 */
public record ImageFolder(Path root, List<Path> files, int[] labels, List<String> classes) {
    public ImageFolder {
        files = List.copyOf(files);
        classes = List.copyOf(classes);
        if (labels.length != files.size()) throw new IllegalArgumentException(files.size() + " files but " + labels.length + " labels");
    }

    public int size() { return files.size(); }

    /** Every image under {@code dir}, recursively (class subfolders or not), all labelled 0. */
    public static ImageFolder flat(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new DataFormatException(dir, "no such folder");
        List<Path> files = ImageFiles.list(dir);
        if (files.isEmpty()) throw new DataFormatException(dir, "no image files (" + extensions() + ") in this folder or below");
        return new ImageFolder(dir, files, new int[files.size()], List.of(""));
    }

    /** The ImageFolder layout: one sub-folder per class, at least two classes, each with at least one image. */
    public static ImageFolder classes(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new DataFormatException(dir, "no such folder");
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(dir)) {
            classDirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        }
        if (classDirs.size() < 2) {
            throw new DataFormatException(dir, "a labeled image folder needs one sub-folder per class (at least two), found " + classDirs.size());
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Path c : classDirs) {
            List<Path> f = ImageFiles.list(c);
            if (f.isEmpty()) throw new DataFormatException(c, "class folder without image files (" + extensions() + ")");
            for (Path p : f) {
                files.add(p);
                labels.add(names.size());
            }
            names.add(c.getFileName().toString());
        }
        return new ImageFolder(dir, files, labels.stream().mapToInt(Integer::intValue).toArray(), names);
    }

    /** The examples at {@code idx}, classes kept. */
    public ImageFolder subset(int[] idx) {
        List<Path> f = new ArrayList<>();
        int[] l = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            f.add(files.get(idx[i]));
            l[i] = labels[idx[i]];
        }
        return new ImageFolder(root, f, l, classes);
    }

    static String extensions() { return String.join(", ", ImageFiles.EXTENSIONS.stream().sorted().toList()); }
}

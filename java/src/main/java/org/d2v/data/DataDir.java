package org.d2v.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where {@code d2v data install} put the sets: {@code build/data} under the working directory
 * unless the system property {@code d2v.data} or the environment variable {@code D2V_DATA} says
 * otherwise. Each set lives in its own sub-folder (fashion-mnist, mnist, speech, text).
 */
public final class DataDir {
    private DataDir() {}

    public static Path root() {
        String p = System.getProperty("d2v.data");
        if (p == null) p = System.getenv("D2V_DATA");
        return Path.of(p != null ? p : "build/data");
    }

    /**
     * The folder of one set, checked to exist (with a hint to install it when it does not) and,
     * when {@code d2v data install} made it, checked against the hashes it recorded there
     * ({@link InstalledSet#check}: size and time of every file, the hash where they changed).
     */
    public static Path of(Path root, String set) throws DataFormatException {
        Path dir = root.resolve(set);
        if (!Files.isDirectory(dir)) {
            throw new DataFormatException(dir, "data set '" + set + "' is not installed; run: make data  (or d2v data install --sets "
                    + set + " --dir " + root + ")");
        }
        try {
            InstalledSet.check(dir);
        } catch (DataFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new DataFormatException(dir, "cannot check the installed set against its manifest: " + e.getMessage(), e);
        }
        return dir;
    }
}

package org.d2v.data.text;

import org.d2v.data.DataFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads corpus files as strict UTF-8 text ({@link Utf8}); empty or binary files are errors that name the file. */
public final class TextFiles {
    private TextFiles() {}

    public static String read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataFormatException(file, "no such file");
        byte[] bytes = Utf8.readBytes(file, Utf8.MAX_WHOLE_FILE);
        if (bytes.length == 0) throw new DataFormatException(file, "empty file");
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) throw new DataFormatException(file, "binary file (NUL byte at offset " + i + "), not text");
        }
        String text = Utf8.decode(bytes, bytes.length, file, 0);
        if (text.isBlank()) throw new DataFormatException(file, "empty file (only whitespace)");
        return text;
    }
}

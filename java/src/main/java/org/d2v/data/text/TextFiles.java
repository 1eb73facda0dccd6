package org.d2v.data.text;

import org.d2v.data.DataFormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads corpus files as strict UTF-8 text; empty or binary files are errors that name the file. */
public final class TextFiles {
    private TextFiles() {}

    public static String read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataFormatException(file, "no such file");
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length == 0) throw new DataFormatException(file, "empty file");
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) throw new DataFormatException(file, "binary file (NUL byte at offset " + i + "), not text");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new DataFormatException(file, "binary file or not UTF-8 text", e);
        }
        if (text.isBlank()) throw new DataFormatException(file, "empty file (only whitespace)");
        return text;
    }
}

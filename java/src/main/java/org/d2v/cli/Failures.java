package org.d2v.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import org.d2v.backend.OutOfDeviceMemoryException;
import org.d2v.data.DataFormatException;
import org.d2v.train.CheckpointException;
import org.d2v.train.RunStoppedException;

/**
 * What the user reads when a command fails, and its exit code. d2v's own exceptions already name
 * the file or the option and the problem; the JDK's file-system exceptions often carry only a path
 * (an AccessDeniedException's message is the path alone), so their reason is spelled out here; a
 * failure that d2v did not word itself (an exception thrown inside the JDK, an Error) is called an
 * internal error and located at the first d2v frame, so it never passes for a message.
 */
final class Failures {
    private Failures() {}

    static int exitCode(Throwable e) {
        if (e instanceof RunStoppedException s) return s.exitCode();
        return badInput(e) ? Cli.USAGE : Cli.FAILED;
    }

    /** Bad input (an option value, a file the user named) rather than a run that failed. */
    static boolean badInput(Throwable e) {
        if (e instanceof IllegalArgumentException) return ownMessage(e);
        return e instanceof CheckpointException || e instanceof DataFormatException || e instanceof NoSuchFileException
                || e instanceof FileNotFoundException || e instanceof AccessDeniedException || e instanceof NotDirectoryException
                || e instanceof FileAlreadyExistsException;
    }

    /** One line: the file or option, the problem, and a hint where one exists. */
    static String describe(Throwable e) {
        if (e instanceof OutOfMemoryError) {
            return "out of Java heap memory (" + e.getMessage() + "); try a smaller --batch, or give the JVM more memory (JAVA_OPTS=-Xmx...)";
        }
        if (e instanceof StackOverflowError) return "internal error: stack overflow " + where(e) + " (--debug prints the stack trace)";
        if (e instanceof Error) return "internal error: " + e + " " + where(e) + " (--debug prints the stack trace)";
        if (e instanceof OutOfDeviceMemoryException) return e.getMessage() + "; try a smaller --batch (or a smaller --preset)";
        if (e instanceof FileSystemException f && !(e instanceof CheckpointException)) return fileSystem(f);
        if (e instanceof UncheckedIOException u && u.getMessage() == null) return describe(u.getCause());
        if (e instanceof IOException && e.getMessage() != null && !ownMessage(e) && isDiskFull(e.getMessage())) {
            return "could not write a file: " + e.getMessage() + " " + where(e) + " (--debug prints the stack trace)";
        }
        if (e instanceof RuntimeException && !ownMessage(e)) {
            return "internal error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + " " + where(e)
                    + " (--debug prints the stack trace)";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    static boolean isDiskFull(String message) {
        return message != null && (message.contains("No space left on device") || message.contains("Disk quota exceeded"));
    }

    /** A file-system exception as "file: reason" (and the other file of a move). */
    static String fileSystem(FileSystemException f) {
        String file = f.getFile() == null ? "(no file named)" : f.getFile();
        if (f.getOtherFile() != null) file += " -> " + f.getOtherFile();
        return file + ": " + reason(f);
    }

    private static String reason(FileSystemException f) {
        if (f.getReason() != null) return f.getReason();
        if (f instanceof NoSuchFileException) return "no such file or folder";
        if (f instanceof AccessDeniedException) return "permission denied";
        if (f instanceof NotDirectoryException) return "not a folder";
        if (f instanceof FileAlreadyExistsException) return "already exists (a file where a folder was expected?)";
        if (f instanceof DirectoryNotEmptyException) return "folder not empty";
        if (f instanceof FileSystemLoopException) return "symbolic links form a loop";
        if (f instanceof NotLinkException) return "not a symbolic link";
        if (f instanceof AtomicMoveNotSupportedException) return "this file system cannot rename atomically";
        return "file system error (" + f.getClass().getSimpleName() + ")";
    }

    /** Whether d2v worded this message (it was raised in d2v's code), rather than the JDK or a library. */
    static boolean ownMessage(Throwable e) {
        StackTraceElement[] trace = e.getStackTrace();
        return trace.length == 0 || trace[0].getClassName().startsWith("org.d2v.");
    }

    /** "in Class.method (File.java:12)": the first d2v frame, where the failure entered d2v's code. */
    static String where(Throwable e) {
        for (StackTraceElement f : e.getStackTrace()) {
            if (f.getClassName().startsWith("org.d2v.")) {
                String cls = f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1);
                return "in " + cls + "." + f.getMethodName() + " (" + f.getFileName() + ":" + f.getLineNumber() + ")";
            }
        }
        return "outside d2v's code";
    }
}

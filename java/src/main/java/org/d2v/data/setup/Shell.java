package org.d2v.data.setup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Runs setup tools (apt-get, npm, tar, sox, espeak-ng, flite) and fails loudly with their output. */
final class Shell {
    private Shell() {}

    /** Runs {@code cmd} in {@code dir} (null: current); returns stdout+stderr; throws on a non-zero exit. */
    static String run(Path dir, List<String> cmd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive"); // apt-get must never prompt
        if (dir != null) pb.directory(dir.toFile());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run '" + cmd.get(0) + "' (is it installed?): " + e.getMessage(), e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc;
        try {
            rc = p.waitFor();
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", cmd), e);
        }
        if (rc != 0) throw new IOException("command failed (exit " + rc + "): " + String.join(" ", cmd) + "\n" + tail(out));
        return out;
    }

    static String run(List<String> cmd) throws IOException { return run(null, cmd); }

    /** True when {@code cmd} runs with exit code 0 (output ignored). */
    static boolean succeeds(List<String> cmd) {
        try {
            run(cmd);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static boolean isRoot() {
        try {
            return run(List.of("id", "-u")).trim().equals("0");
        } catch (IOException e) {
            return false;
        }
    }

    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String d : path.split(java.io.File.pathSeparator)) if (Files.isExecutable(Path.of(d, tool))) return true;
        return false;
    }

    private static String tail(String s) {
        return s.length() <= 2000 ? s : "..." + s.substring(s.length() - 2000);
    }
}

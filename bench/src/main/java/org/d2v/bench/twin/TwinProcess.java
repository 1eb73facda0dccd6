package org.d2v.bench.twin;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The PyTorch twin ({@code bench/pytorch/d2v_twin.py serve}) as a child process that stays warm between
 * rounds: one JSON request per line on its stdin, one reply per line on its stdout; its stderr
 * (PyTorch's warnings, compile logs) goes to ours.
 */
final class TwinProcess implements AutoCloseable {
    /** The twin's script, found from the working directory or any folder above it (tests run in bench/). */
    static Path script() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path s = d.resolve("bench/pytorch/d2v_twin.py");
            if (java.nio.file.Files.isRegularFile(s)) return s;
        }
        throw new IllegalStateException("bench/pytorch/d2v_twin.py not found from " + Path.of("").toAbsolutePath());
    }

    private final Process process;
    private final Writer in;
    private final BufferedReader out;

    TwinProcess(int threads) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(python(), script().toString(), "serve"));
        if (threads > 0) cmd.addAll(List.of("--threads", Integer.toString(threads)));
        process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    static String python() { return System.getenv().getOrDefault("PYTHON", "python3"); }

    /**
     * Null when {@code python3 -c "import torch"} works, else why not (the first line of its error).
     * CI has no torch: callers skip the PyTorch side with this message instead of failing.
     */
    static String whyUnavailable() {
        try {
            // From a neutral folder, so that nothing in the working directory can shadow the installed torch package.
            Process p = new ProcessBuilder(python(), "-c", "import torch; print(torch.__version__)")
                    .directory(new java.io.File(System.getProperty("java.io.tmpdir"))).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return python() + " -c \"import torch\" did not finish in 300 s";
            }
            if (p.exitValue() == 0 && !text.isEmpty()) return null;
            String[] lines = text.split("\n");
            return python() + " -c \"import torch\" failed: " + lines[lines.length - 1];
        } catch (IOException e) {
            return "cannot run " + python() + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Sends one request and returns the reply; a reply with "error" throws, naming it. */
    @SuppressWarnings("unchecked")
    Map<String, Object> call(Map<String, Object> request) throws IOException {
        in.write(JsonText.write(request).replace("\n", " ").trim() + "\n");
        in.flush();
        String line = out.readLine();
        if (line == null) throw new IOException("the PyTorch twin exited (see its messages above)");
        Map<String, Object> reply = (Map<String, Object>) JsonText.parse(line);
        if (reply.containsKey("error")) throw new IOException("the PyTorch twin: " + reply.get("error"));
        return reply;
    }

    @Override
    public void close() throws IOException {
        try {
            in.write("{\"cmd\": \"quit\"}\n");
            in.flush();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}

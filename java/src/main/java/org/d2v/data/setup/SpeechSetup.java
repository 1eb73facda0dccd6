package org.d2v.data.setup;

import org.d2v.data.Checksums;
import org.d2v.data.audio.Wav;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Speech at 16 kHz mono 16-bit:
 * <ul>
 * <li>pretrain: the KTuberling and KLettres OGG recordings converted with sox;</li>
 * <li>digits: "zero".."nine" synthesized with espeak-ng (accents × voice variants × speed × pitch,
 *     resampled from 22,050 Hz with sox at gain 0.8 so nothing clips) and flite (voices kal16,
 *     awb, rms, slt × duration × pitch target).</li>
 * </ul>
 * espeak-ng silently falls back to its default voice for an unknown variant, so every voice's
 * output is compared and setup fails when two voices sound byte-identical. Within a voice, a
 * prosody setting that the voice ignores (flite's rms has no pitch target) gives duplicate clips;
 * those duplicates are dropped, keeping the first.
 */
final class SpeechSetup implements DataSetup {
    static final Path KTUBERLING = Path.of("/usr/share/ktuberling/sounds");
    static final Path KLETTRES = Path.of("/usr/share/klettres");
    static final String[] DIGITS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
    // Not "en-gb": that name ignores any +variant (every en-gb+X is byte-identical); "en" is the same British voice file.
    static final List<String> ESPEAK_ACCENTS = List.of("en", "en-us", "en-gb-scotland", "en-029", "en-gb-x-rp");
    static final List<String> ESPEAK_VARIANTS = List.of("m1", "m3", "f2", "f4", "klatt", "croak");
    static final int[] ESPEAK_SPEEDS = {130, 175};
    static final int[] ESPEAK_PITCHES = {35, 65};
    static final List<String> FLITE_VOICES = List.of("kal16", "awb", "rms", "slt");
    static final double[] FLITE_STRETCH = {0.8, 1.0, 1.25};
    static final int[] FLITE_F0 = {95, 130};

    @Override public String name() { return "speech"; }

    /** sox over 3,212 clips takes minutes on a busy machine: an interrupted run keeps the clips it made. */
    @Override public boolean resumable() { return true; }

    @Override public List<String> aptPackages() { return List.of("ktuberling-data", "klettres-data", "sox", "espeak-ng", "flite"); }

    private record Job(Path wav, List<List<String>> commands) {}

    @Override
    public void build(Path out, SetupContext ctx) throws IOException {
        buildPretrain(out.resolve("pretrain"), ctx);
        buildDigits(out.resolve("digits"), ctx);
    }

    private void buildPretrain(Path out, SetupContext ctx) throws IOException {
        List<Job> jobs = new ArrayList<>();
        List<String> index = new ArrayList<>();
        for (var src : List.of(Map.entry("ktuberling", KTUBERLING), Map.entry("klettres", KLETTRES))) {
            List<Path> oggs;
            try (Stream<Path> s = Files.walk(src.getValue())) {
                oggs = s.filter(p -> p.toString().endsWith(".ogg") && Files.isRegularFile(p)).sorted().toList();
            }
            for (Path ogg : oggs) {
                String rel = src.getValue().relativize(ogg).toString().replace('\\', '/').replaceFirst("\\.ogg$", ".wav");
                Path wav = out.resolve(src.getKey()).resolve(rel);
                jobs.add(new Job(wav, List.of(List.of("sox", ogg.toString(), "-r", "16000", "-c", "1", "-b", "16", wav.toString()))));
                index.add(src.getKey() + "/" + rel + "\t" + src.getKey() + "\t" + rel.substring(0, rel.indexOf('/')));
            }
        }
        long t0 = System.nanoTime();
        runAll(jobs);
        double seconds = 0;
        for (Job j : jobs) seconds += Wav.read(j.wav()).length / (double) Wav.RATE;
        Files.write(out.resolve("index.tsv"), index, StandardCharsets.UTF_8);
        ctx.log(String.format("pretrain: %d clips, %.1f min of audio, converted in %.1f s", jobs.size(), seconds / 60,
                (System.nanoTime() - t0) / 1e9));
    }

    private void buildDigits(Path out, SetupContext ctx) throws IOException {
        long t0 = System.nanoTime();
        checkVoicesDiffer(out.resolve("voice-check"));
        List<Job> jobs = new ArrayList<>();
        List<String[]> rows = new ArrayList<>(); // file, digit, engine, voice, prosody
        Path tmp = out.resolve("tmp");
        for (String accent : ESPEAK_ACCENTS) {
            for (String variant : ESPEAK_VARIANTS) {
                String voice = accent + "+" + variant;
                for (int speed : ESPEAK_SPEEDS) {
                    for (int pitch : ESPEAK_PITCHES) {
                        String prosody = "s" + speed + "-p" + pitch;
                        for (int d = 0; d < 10; d++) {
                            String rel = "espeak/" + voice + "/" + d + "_" + prosody + ".wav";
                            Path raw = tmp.resolve(rel);
                            jobs.add(new Job(out.resolve(rel), List.of(
                                    List.of("espeak-ng", "-v", voice, "-s", "" + speed, "-p", "" + pitch, "-w", raw.toString(), DIGITS[d]),
                                    List.of("sox", "-v", "0.8", raw.toString(), "-r", "16000", "-c", "1", "-b", "16", out.resolve(rel).toString()))));
                            rows.add(new String[] {rel, "" + d, "espeak", "espeak/" + voice, prosody});
                        }
                    }
                }
            }
        }
        for (String voice : FLITE_VOICES) {
            for (double stretch : FLITE_STRETCH) {
                for (int f0 : FLITE_F0) {
                    String prosody = "d" + stretch + "-f" + f0;
                    for (int d = 0; d < 10; d++) {
                        String rel = "flite/" + voice + "/" + d + "_" + prosody + ".wav";
                        // flite's own voices already write 16 kHz mono 16-bit, checked below by Wav.read.
                        jobs.add(new Job(out.resolve(rel), List.of(List.of("flite", "-voice", voice, "--setf", "duration_stretch=" + stretch,
                                "--setf", "int_f0_target_mean=" + f0, "-t", DIGITS[d], out.resolve(rel).toString()))));
                        rows.add(new String[] {rel, "" + d, "flite", "flite/" + voice, prosody});
                    }
                }
            }
        }
        runAll(jobs);
        Shell.run(List.of("rm", "-rf", tmp.toString(), out.resolve("voice-check").toString()));

        // Drop clips identical to an earlier clip of the same voice and digit (a prosody the voice ignores).
        List<String> index = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        int dropped = 0;
        double seconds = 0;
        for (String[] r : rows) {
            Path wav = out.resolve(r[0]);
            String key = r[3] + "|" + r[1] + "|" + Checksums.sha256(wav);
            if (!seen.add(key)) {
                Files.delete(wav);
                dropped++;
                continue;
            }
            seconds += Wav.read(wav).length / (double) Wav.RATE; // also checks 16 kHz mono 16-bit
            index.add(String.join("\t", r));
        }
        Files.write(out.resolve("index.tsv"), index, StandardCharsets.UTF_8);
        ctx.log(String.format("digits: %d clips (%d duplicate prosodies dropped), %.1f min, %d espeak + %d flite voices, made in %.1f s",
                index.size(), dropped, seconds / 60, ESPEAK_ACCENTS.size() * ESPEAK_VARIANTS.size(), FLITE_VOICES.size(),
                (System.nanoTime() - t0) / 1e9));
    }

    private static boolean readable(Path wav) {
        if (!Files.isRegularFile(wav)) return false;
        try {
            Wav.read(wav);
            return true;
        } catch (IOException e) {
            return false; // a clip cut short by an interrupted run: make it again
        }
    }

    /** Synthesizes one word per voice and fails when two voices give the same bytes (a silent fallback). */
    private static void checkVoicesDiffer(Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, String> byHash = new HashMap<>();
        List<String[]> voices = new ArrayList<>();
        for (String a : ESPEAK_ACCENTS) for (String v : ESPEAK_VARIANTS) voices.add(new String[] {"espeak", a + "+" + v});
        for (String v : FLITE_VOICES) voices.add(new String[] {"flite", v});
        for (String[] v : voices) {
            Path wav = dir.resolve(v[0] + "-" + v[1] + ".wav");
            if (v[0].equals("espeak")) Shell.run(List.of("espeak-ng", "-v", v[1], "-w", wav.toString(), "seven"));
            else Shell.run(List.of("flite", "-voice", v[1], "-t", "seven", wav.toString()));
            String h = Checksums.sha256(wav);
            String other = byHash.putIfAbsent(h, v[0] + " voice " + v[1]);
            if (other != null) {
                throw new IOException(wav + ": " + v[0] + " voice " + v[1] + " sounds byte-identical to " + other
                        + " (an unknown voice or variant silently falls back to the default); fix the voice list");
            }
        }
    }

    /** Runs the jobs' commands on all cores; each job's commands run in order. Jobs whose WAV already reads fine are skipped. */
    private static void runAll(List<Job> jobs) throws IOException {
        List<Job> todo = new ArrayList<>();
        for (Job j : jobs) if (!readable(j.wav())) todo.add(j);
        jobs = todo;
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (Job j : jobs) {
                fs.add(pool.submit(() -> {
                    for (List<String> c : j.commands()) {
                        for (String arg : c) {
                            if (arg.endsWith(".wav")) Files.createDirectories(Path.of(arg).getParent());
                        }
                        Shell.run(c);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

package org.d2v.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** native/build.sh: a missing compiler or header skips a library with the reason, never fails the build. */
class NativeBuildScriptTest {
    private static final Path SCRIPT = Path.of("..", "native", "build.sh").toAbsolutePath().normalize();

    private record Result(int exit, String output) {}

    private static Result run(Map<String, String> env, Path out) throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(SCRIPT), "no " + SCRIPT);
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString()).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("OUT", out.toString());
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "build.sh did not finish");
        return new Result(p.exitValue(), output);
    }

    @Test
    void withoutMpiccTheMpiLibraryIsSkippedWithWhatToInstall(@TempDir Path out) throws Exception {
        Result r = run(Map.of("MPICC", "/nonexistent/mpicc"), out);
        assertEquals(0, r.exit(), r.output());
        String why = "/nonexistent/mpicc not found: install openmpi-bin libopenmpi-dev (Debian: apt-get install openmpi-bin "
                + "libopenmpi-dev) and rebuild: make native";
        assertTrue(r.output().contains("native: libd2v_mpi.so not built: " + why), r.output());
        assertFalse(Files.exists(out.resolve("libd2v_mpi.so")));
        assertEquals(why, Files.readString(out.resolve("libd2v_mpi.so.missing")).strip());
        // What the Java side then reports for that build:
        assertEquals("native library not built: " + why, NativeLibraries.tryLoad(NativeLibraries.Library.MPI, out.toString()).detail());
        if (r.output().contains("built " + out.resolve("libd2v_gpu.so"))) {
            assertTrue(Files.isRegularFile(out.resolve("libd2v_gpu.so")), "the GPU library needs only gcc");
        }
    }

    @Test
    void withoutACompilerNothingIsBuiltAndTheBuildStillSucceeds(@TempDir Path out) throws Exception {
        Result r = run(Map.of("CC", "/nonexistent/gcc"), out);
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("native: libd2v_gpu.so not built: no C compiler (/nonexistent/gcc not found)"), r.output());
        assertTrue(Files.readString(out.resolve("libd2v_gpu.so.missing")).contains("install gcc"));
        assertTrue(Files.exists(out.resolve("libd2v_mpi.so.missing")));
    }

    @Test
    void withoutJniHeadersTheReasonSaysWhichJdkToInstall(@TempDir Path out, @TempDir Path fakeJdk) throws Exception {
        Result r = run(Map.of("JAVA_HOME", fakeJdk.toString()), out);
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("no JNI headers (jni.h not found under " + fakeJdk + "/include)"), r.output());
        assertTrue(Files.readString(out.resolve("libd2v_gpu.so.missing")).contains("openjdk-17-jdk-headless"));
    }
}

package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** bin/d2v, the POSIX launcher: it finds java with JAVA_HOME unset and preloads that JDK's libjsig on Linux. */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("..", "bin", "d2v").toAbsolutePath().normalize();

    private record Result(int code, String out) {}

    private static Result launch(Map<String, String> extra, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(concat(List.of("sh", LAUNCHER.toString()), args)).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.remove("JAVA_HOME");
        env.remove("LD_PRELOAD");
        env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":/usr/bin:/bin");
        env.put("D2V_CLASSPATH", System.getProperty("java.class.path"));
        env.putAll(extra);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher finished");
        return new Result(p.exitValue(), out);
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }

    @Test
    void runsWithoutJavaHomeAndPreloadsLibjsig() throws Exception {
        assertTrue(Files.isRegularFile(LAUNCHER), LAUNCHER + " exists");
        Path jsig = Path.of(System.getProperty("java.home"), "lib", "libjsig.so").toRealPath();
        Result dry = launch(Map.of("D2V_DRY_RUN", "1"), "info");
        assertEquals(0, dry.code(), dry.out());
        if (System.getProperty("os.name").equals("Linux")) {
            assertTrue(dry.out().startsWith("LD_PRELOAD=" + jsig + " "), "preloads " + jsig + ":\n" + dry.out());
        }
        assertTrue(dry.out().contains("org.d2v.cli.Main info"), dry.out());
        Result version = launch(Map.of(), "--version");
        assertEquals(0, version.code(), version.out());
        assertEquals("d2v " + Cli.Version.version() + "\n", version.out());
        Result bad = launch(Map.of(), "pretrain", "--bogus");
        assertEquals(2, bad.code(), bad.out());
        assertEquals(2, bad.code());
    }
}

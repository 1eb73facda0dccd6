package org.d2v.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The d2v command as a whole: the command list, --version, exit codes and the one-line errors. */
class MainTest {
    @TempDir Path tmp;

    private record Run(int code, String out, String err) {}

    private static Run d2v(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void listsEveryCommandWithItsSummary() {
        Captured none = assertDoesNotThrow(() -> Captured.run(() -> Main.commandLine().execute()));
        assertEquals(0, none.code());
        for (String c : new String[] {"info", "data", "pretrain", "probe", "finetune", "demo", "export", "import", "help"}) {
            assertTrue(none.out().contains("  " + c + " "), c + " missing:\n" + none.out());
        }
        assertTrue(none.out().contains("Pretrain a data2vec 2.0 model"), none.out());
        Run help = d2v("help", "pretrain");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--checkpoint-every"), help.out());
    }

    @Test
    void versionComesFromThePom() throws Exception {
        String v = Cli.Version.version();
        assertTrue(v.matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), "version.properties filtered by Maven: " + v);
        assertEquals("d2v " + v + "\n", d2v("--version").out());
        assertEquals("d2v " + v + "\n", d2v("pretrain", "--version").out());
    }

    @Test
    void usageErrorsAreOneLineAndExit2() {
        Run unknown = d2v("frobnicate");
        assertEquals(2, unknown.code());
        assertEquals("d2v: frobnicate: unexpected argument (d2v --help lists the options)\n", unknown.err());
        Run bogus = d2v("probe", "--bogus=1");
        assertEquals(2, bogus.code());
        assertEquals("d2v probe: --bogus=1: unknown option (d2v probe --help lists the options)\n", bogus.err());
        Run missing = d2v("demo", "--minutes");
        assertEquals("d2v demo: --minutes: needs a value (d2v demo --help lists the options)\n", missing.err());
        Run range = d2v("demo", "--minutes=-1");
        assertEquals(2, range.code());
        assertEquals("d2v demo: --minutes: must be a positive number, got -1.0\n", range.err());
        Run dataAlone = d2v("data");
        assertEquals(2, dataAlone.code());
        Run badSet = d2v("data", "floors", "--sets", "mnist,nothing", "--dir", tmp.toString());
        assertEquals(2, badSet.code());
        assertTrue(badSet.err().startsWith("d2v data floors: --sets: unknown set 'nothing'"), badSet.err());
    }

    @Test
    void aMissingRunNamesTheFileWithoutAStackTraceUnlessDebugging() {
        Path none = tmp.resolve("none");
        Run plain = d2v("probe", "--run", none.toString());
        assertEquals(2, plain.code());
        assertEquals("d2v probe: " + none + ": run folder does not exist\n", plain.err());
        Run debug = d2v("probe", "--debug", "--run", none.toString());
        assertEquals(2, debug.code());
        assertTrue(debug.err().startsWith("d2v probe: " + none + ": run folder does not exist\n"), debug.err());
        assertTrue(debug.err().contains("CheckpointException") && debug.err().contains("\tat "), debug.err());
    }
}

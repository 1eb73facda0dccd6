package org.d2v.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

/** What a command printed to stdout and stderr, and its exit code. */
record Captured(int code, String out, String err) {
    interface Body { int run() throws Exception; }

    static Captured run(Body body) throws Exception {
        PrintStream savedOut = System.out, savedErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        int code;
        try {
            code = body.run();
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        Captured c = new Captured(code, out.toString(), err.toString());
        savedOut.print(c.out());
        savedErr.print(c.err());
        return c;
    }
}

package org.d2v.backend.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Every kernel declared in kernels/ is launched by some test. The whole suite runs first with
 * {@code -Dd2v.launchLog=target/kernel-launches.txt} (the runtimes record each kernel they
 * launch, and the JVM writes them when it exits); Maven then runs this class on its own
 * (java/pom.xml, profile kernel-coverage, active whenever no -Dtest is given) and compares the
 * log with the declarations. A kernel no test launches is untested however correct it looks.
 */
class KernelCoverageTest {
    static final Path LOG = Path.of("target", "kernel-launches.txt");

    @Test
    void everyDeclaredKernelIsLaunchedBySomeTest() throws Exception {
        if (!Files.exists(LOG)) {
            if ("true".equals(System.getenv("CI"))) fail(LOG + " is missing: the suite did not record its launches");
            Assumptions.abort("no " + LOG.toAbsolutePath() + ": run the whole suite (mvn test) first");
        }
        List<String> launched = Files.readAllLines(LOG);
        TreeSet<String> declared = DeclaredKernels.all();
        TreeSet<String> never = new TreeSet<>(declared);
        never.removeAll(launched);
        TreeSet<String> unknown = new TreeSet<>(launched);
        unknown.removeAll(declared);
        System.out.printf("kernels launched by the suite: %d of %d declared in kernels/%n", declared.size() - never.size(),
                declared.size());
        System.out.println("never launched: " + (never.isEmpty() ? "none" : never));
        assertTrue(never.isEmpty(), "declared in kernels/ but launched by no test: " + never
                + " (" + LOG + " holds the launches of the last test run; after a partial one, run the whole suite)");
        // a launched name kernels/ does not declare would mean the log and the sources disagree (test-only programs aside)
        unknown.removeIf(k -> k.matches("\\w+_for_test/.*"));
        assertTrue(unknown.isEmpty(), "launched but not declared in kernels/: " + unknown);
    }
}

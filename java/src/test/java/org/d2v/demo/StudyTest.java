package org.d2v.demo;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StudyTest {
    @TempDir Path tmp;

    @Test
    void tableHasARowPerArmWithItsCurveAndThePlotIsWritten() throws Exception {
        Study.write(tmp, List.of(new Study.Arm("data2vec 2.0, M = 4", ReportTest.fakeRun(0.8437, 0.7311)),
                new Study.Arm("data2vec 2.0, M = 1", ReportTest.fakeRun(0.8012, 0.7311))), List.of("no MAE arm"));
        String md = Files.readString(tmp.resolve(Study.MARKDOWN));
        assertTrue(md.contains("| data2vec 2.0, M = 4 | 100 | 122 | 52.7 | 3.250 -> 1.500 | 0.8437 | 0.7311 | 0.6100 (step 0, 0 s) | 0.7400 (step 50, 60 s) | 0.7900 (step 100, 121 s) |"), md);
        assertTrue(md.contains("| data2vec 2.0, M = 1 | 100 | 122 | 52.7 | 3.250 -> 1.500 | 0.8012 |"), md);
        assertTrue(md.contains(" quick 0/2 | quick 1/2 | quick 2/2 |"), md);
        assertTrue(md.contains("Raw pixels, same probe: 0.8123."), md);
        assertTrue(md.contains("- no MAE arm"), md);
        assertNotNull(ImageIO.read(tmp.resolve(Study.PLOT).toFile()));
        assertThrows(IllegalArgumentException.class, () -> Study.write(tmp, List.of(), List.of()));
    }
}

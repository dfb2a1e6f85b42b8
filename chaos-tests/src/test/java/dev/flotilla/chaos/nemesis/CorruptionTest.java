package dev.flotilla.chaos.nemesis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorruptionTest {

    /** A preallocated segment: 1000 written bytes, then zeros up to 64 KiB. */
    private static Path segment(Path dir) throws Exception {
        byte[] data = new byte[64 * 1024];
        for (int i = 0; i < 1000; i++) {
            data[i] = (byte) (1 + i % 250);
        }
        Path p = dir.resolve("log_inprogress_0");
        Files.write(p, data);
        return p;
    }

    @Test
    void damageLandsInTheWrittenTailNotInThePreallocatedZeros(@TempDir Path dir) throws Exception {
        for (long seed = 0; seed < 20; seed++) {
            Path p = segment(dir);
            byte[] before = Files.readAllBytes(p);
            String what = Corruption.damage(p, new Random(seed));
            byte[] after = Files.readAllBytes(p);
            if (what.startsWith("truncated")) {
                assertTrue(after.length < 1000, "seed " + seed + ": truncation must cut written bytes: " + what);
                assertTrue(Arrays.equals(before, 0, after.length, after, 0, after.length), "only the tail is cut");
            } else {
                assertEquals(before.length, after.length);
                assertNotEquals(0, Arrays.mismatch(before, after) + 1, "some bit flipped: " + what);
                int first = Arrays.mismatch(before, after);
                assertTrue(first >= 1000 - 4096 && first < 1000, "seed " + seed + ": flip inside the written data: " + what);
                assertTrue(Arrays.equals(before, 1000, before.length, after, 1000, after.length), "zeros untouched");
            }
        }
    }

    @Test
    void anUnwrittenSegmentIsLeftAlone(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("log_inprogress_0");
        Files.write(p, new byte[4096]);
        assertTrue(Corruption.damage(p, new Random(1)).startsWith("nothing written"));
        assertEquals(4096, Files.size(p));
    }
}

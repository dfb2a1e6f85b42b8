package dev.flotilla.chaos.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryTest {

    @Test
    void jsonLinesRoundTrip(@TempDir Path dir) throws Exception {
        History h = new History(List.of(
                new Op(1, 2, "n2", "register", "vm-1", OpKind.READ, 50, 70, Outcome.OK, VmState.STOPPED, 200, null),
                new Op(0, 1, "n1", "register", "vm-1", OpKind.STOP, 10, 40, Outcome.UNKNOWN, null, 0, "timeout")));
        Path file = dir.resolve("history.jsonl");
        h.writeJsonLines(file);
        assertEquals(2, Files.readAllLines(file).size(), "one line per op");
        assertEquals(h.byInvocation(), History.readJsonLines(file).ops());
    }

    @Test
    void anOpCannotCompleteBeforeItIsInvoked() {
        assertThrows(IllegalArgumentException.class, () ->
                new Op(0, 0, "n1", "register", "k", OpKind.CREATE, 10, 5, Outcome.OK, null, 202, null));
    }
}

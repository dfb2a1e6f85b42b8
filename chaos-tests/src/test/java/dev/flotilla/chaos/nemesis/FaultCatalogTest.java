package dev.flotilla.chaos.nemesis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FaultCatalogTest {

    private static List<String> kinds(String list) {
        return FaultCatalog.parse(list).stream().map(Fault::kind).toList();
    }

    @Test
    void allNamesEveryKindOnce() {
        assertEquals(FaultCatalog.names(), kinds("all"));
        assertEquals(FaultCatalog.names(), kinds("all,kill,partition"));
        assertEquals(13, FaultCatalog.names().size());
    }

    @Test
    void anExactKindIsJustThatKindAndAPrefixIsAFamily() {
        assertEquals(List.of("kill"), kinds("kill"));
        assertEquals(List.of("partition-one", "partition-leader", "partition-halves", "partition-ring"), kinds("partition"));
        assertEquals(List.of("clock-skew", "clock-bump", "clock-strobe"), kinds(" clock "));
    }

    @Test
    void onlyClockFaultsNeedFaketime() {
        assertTrue(FaultCatalog.needsFaketime(FaultCatalog.parse("kill,clock-bump")));
        assertFalse(FaultCatalog.needsFaketime(FaultCatalog.parse("kill,partition,corrupt,membership")));
    }

    @Test
    void anUnknownNameIsRefusedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FaultCatalog.parse("kil"));
        assertTrue(e.getMessage().contains("kill-leader"), e.getMessage());
    }
}

package dev.flotilla.node.backend.microvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.backend.BackendException;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Job ids map to microvm.nix names deterministically, safely and without two ids sharing a name. */
class VmNameTest {

    @Test
    void aNameThatIsAlreadySafeIsKept() throws BackendException {
        assertEquals("web-1", VmName.forMachine("web-1"));
        assertEquals("0a", VmName.forMachine("0a"));
        String longest = "a".repeat(63);
        assertEquals(longest, VmName.forMachine(longest));
    }

    @Test
    void upperCaseUnderscoreAndDotBecomeAReadablePrefixAndAHash() throws BackendException {
        String mapped = VmName.forMachine("Game_Server.eu-1");
        assertTrue(mapped.matches("game-server-eu-1-[0-9a-f]{10}"), mapped);
        assertEquals(mapped, VmName.check(mapped), "the mapped name is a valid microvm.nix name");
        assertEquals(mapped, VmName.forMachine("Game_Server.eu-1"), "the mapping is deterministic");
    }

    @Test
    void idsThatLowerCaseAlikeGetDifferentNames() throws BackendException {
        assertNotEquals(VmName.forMachine("Web"), VmName.forMachine("WEB"));
        assertNotEquals(VmName.forMachine("a_b"), VmName.forMachine("a.b"));
        assertNotEquals(VmName.forMachine("a_b"), VmName.forMachine("a-b"));
        assertNotEquals(VmName.forMachine("Web"), VmName.forMachine("web"));
    }

    @Test
    void aSafeIdShapedLikeAMappedNameIsMappedTooSoItCannotTakeAnothersName() throws BackendException {
        String mapped = VmName.forMachine("Web");
        // Someone names a job exactly what "Web" maps to: it must not land on the same microVM.
        String squatter = VmName.forMachine(mapped);
        assertNotEquals(mapped, squatter);
        assertTrue(squatter.length() <= 63, squatter);
        VmName.check(squatter);
    }

    @Test
    void theLongestIdsStayWithin63Characters() throws BackendException {
        String a = "X".repeat(62) + "a";
        String b = "X".repeat(62) + "b";
        String ma = VmName.forMachine(a);
        assertEquals(63, ma.length(), ma);
        VmName.check(ma);
        assertNotEquals(ma, VmName.forMachine(b), "ids differing only past the kept prefix still differ by hash");
    }

    @Test
    void namesOutsideTheJobIdAlphabetAreRefused() {
        for (String bad : new String[] {"", "-a", "a b", "a;rm", "a/b", "ä", "a".repeat(64)}) {
            BackendException e = assertThrows(BackendException.class, () -> VmName.forMachine(bad), bad);
            assertTrue(e.getMessage().contains("cannot be used"), e.getMessage());
        }
    }

    @Test
    void manyRandomIdsAllMapToValidDistinctNames() throws BackendException {
        long seed = System.nanoTime();
        System.out.println("VmNameTest seed " + seed);
        Random rnd = new Random(seed);
        String alphabet = "abcXYZ019_.-";
        Map<String, String> seen = new HashMap<>();
        for (int i = 0; i < 20_000; i++) {
            StringBuilder id = new StringBuilder().append(alphabet.charAt(rnd.nextInt(9)));
            int len = rnd.nextInt(12);
            for (int j = 0; j < len; j++) id.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            String name = VmName.forMachine(id.toString());
            VmName.check(name);
            String before = seen.putIfAbsent(name, id.toString());
            assertTrue(before == null || before.equals(id.toString()),
                    "seed " + seed + ": '" + before + "' and '" + id + "' both map to " + name);
        }
    }
}

package dev.flotilla.chaos.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flotilla.chaos.history.History;
import dev.flotilla.chaos.history.Op;
import dev.flotilla.chaos.history.OpKind;
import dev.flotilla.chaos.history.Outcome;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SetCheckTest {

    private static Op create(long id, String key, Outcome outcome, int status) {
        return new Op(id, 0, "n1", "set", key, OpKind.CREATE, id * 10, id * 10 + 5, outcome, null, status, null);
    }

    private final History history = new History(List.of(
            create(0, "s-0", Outcome.OK, 202),
            create(1, "s-1", Outcome.OK, 202),
            create(2, "s-2", Outcome.UNKNOWN, 0),
            create(3, "s-3", Outcome.UNKNOWN, 0),
            create(4, "s-4", Outcome.FAIL, 400)));

    @Test
    void allAcknowledgedPresentPassesWhateverBecameOfTheUnknowns() {
        SetCheck.Result r = SetCheck.check(history, Optional.of(Set.of("s-0", "s-1", "s-3")));
        assertEquals(SetCheck.Verdict.PASS, r.verdict(), r.note());
        assertEquals(2, r.acknowledged());
        assertEquals(2, r.unknown());
        assertEquals(1, r.unknownPresent());
    }

    @Test
    void aMissingAcknowledgedCreateIsLost() {
        SetCheck.Result r = SetCheck.check(history, Optional.of(Set.of("s-0")));
        assertEquals(SetCheck.Verdict.FAIL, r.verdict());
        assertEquals(List.of("s-1"), r.lost());
    }

    @Test
    void aDefinitelyFailedOrNeverAttemptedIdIsUnexpected() {
        SetCheck.Result r = SetCheck.check(history, Optional.of(Set.of("s-0", "s-1", "s-4", "s-99")));
        assertEquals(SetCheck.Verdict.FAIL, r.verdict());
        assertEquals(List.of("s-4", "s-99"), r.unexpected());
    }

    @Test
    void withoutAFinalReadTheVerdictIsUnknown() {
        assertEquals(SetCheck.Verdict.UNKNOWN, SetCheck.check(history, Optional.empty()).verdict());
    }
}

package dev.flotilla.chaos.checker;

import dev.flotilla.chaos.history.History;
import dev.flotilla.chaos.history.Op;
import dev.flotilla.chaos.history.OpKind;
import dev.flotilla.chaos.history.Outcome;
import dev.flotilla.chaos.history.VmState;
import java.util.ArrayList;
import java.util.List;

/** Hand-made histories for checker tests: times in milliseconds, one key unless said otherwise. */
final class Histories {
    private final List<Op> ops = new ArrayList<>();
    private String key = "vm-1";

    Histories key(String k) {
        key = k;
        return this;
    }

    private Histories add(int client, OpKind kind, long from, long to, Outcome outcome, VmState read, int status) {
        ops.add(new Op(ops.size(), client, "n" + (client % 3 + 1), "register", key, kind, from * 1_000_000L,
                to * 1_000_000L, outcome, read, status, outcome == Outcome.OK ? null : "test"));
        return this;
    }

    Histories ok(int client, OpKind kind, long from, long to) {
        return add(client, kind, from, to, Outcome.OK, null, 202);
    }

    Histories read(int client, VmState seen, long from, long to) {
        return add(client, OpKind.READ, from, to, Outcome.OK, seen, seen == VmState.ABSENT ? 404 : 200);
    }

    Histories conflict(int client, OpKind kind, long from, long to) {
        return add(client, kind, from, to, Outcome.FAIL, null, 409);
    }

    Histories notFound(int client, OpKind kind, long from, long to) {
        return add(client, kind, from, to, Outcome.FAIL, null, 404);
    }

    Histories fail(int client, OpKind kind, long from, long to, int status) {
        return add(client, kind, from, to, Outcome.FAIL, null, status);
    }

    /** An op whose answer never came: the client gave up at {@code gaveUp}. */
    Histories unknown(int client, OpKind kind, long from, long gaveUp) {
        return add(client, kind, from, gaveUp, Outcome.UNKNOWN, null, 0);
    }

    History build() {
        return new History(ops);
    }
}

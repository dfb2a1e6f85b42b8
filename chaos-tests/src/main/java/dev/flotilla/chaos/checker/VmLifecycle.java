package dev.flotilla.chaos.checker;

import dev.flotilla.chaos.history.Op;
import dev.flotilla.chaos.history.Outcome;
import dev.flotilla.chaos.history.VmState;

/**
 * The lifecycle register of one VM as the HTTP API specifies it: absent, running or stopped.
 * create is an upsert (absent becomes running; an existing VM keeps its desired state); start and stop
 * answer 409 when the VM is already there; start, stop and delete answer 404 when it is absent.
 * A definite failure is a legal op only where the specification gives that very failure.
 */
public final class VmLifecycle implements Model {

    private static final int ABSENT = VmState.ABSENT.ordinal();
    private static final int RUNNING = VmState.RUNNING.ordinal();
    private static final int STOPPED = VmState.STOPPED.ordinal();

    @Override
    public int initial() {
        return ABSENT;
    }

    @Override
    public int step(int state, Op op) {
        Effect effect = effect(state, op);
        return switch (op.outcome()) {
            // Whatever the node answered, it answered what the specification gives here.
            case UNKNOWN -> effect.next;
            case OK -> effect.result == Result.OK && readMatches(state, op) ? effect.next : ILLEGAL;
            case FAIL -> switch (op.failReason()) {
                case NOT_FOUND -> effect.result == Result.NOT_FOUND ? state : ILLEGAL;
                case ILLEGAL -> effect.result == Result.CONFLICT ? state : ILLEGAL;
                // A failure that says nothing about the state did nothing; the checker drops it first.
                case NONE -> state;
            };
        };
    }

    private static boolean readMatches(int state, Op op) {
        return op.kind() != dev.flotilla.chaos.history.OpKind.READ || op.read().ordinal() == state;
    }

    private enum Result { OK, NOT_FOUND, CONFLICT }

    private record Effect(Result result, int next) { }

    /** What the specification answers to this op in this state, and the state after it. */
    private static Effect effect(int state, Op op) {
        return switch (op.kind()) {
            case CREATE -> new Effect(Result.OK, state == ABSENT ? RUNNING : state);
            case START -> state == ABSENT ? new Effect(Result.NOT_FOUND, state)
                    : state == RUNNING ? new Effect(Result.CONFLICT, state)
                    : new Effect(Result.OK, RUNNING);
            case STOP -> state == ABSENT ? new Effect(Result.NOT_FOUND, state)
                    : state == STOPPED ? new Effect(Result.CONFLICT, state)
                    : new Effect(Result.OK, STOPPED);
            case DELETE -> state == ABSENT ? new Effect(Result.NOT_FOUND, state)
                    : new Effect(Result.OK, ABSENT);
            case READ -> new Effect(Result.OK, state);
        };
    }

    @Override
    public String describe(int state) {
        return state < 0 ? "illegal" : VmState.values()[state].name().toLowerCase(java.util.Locale.ROOT);
    }

    /** True for ops that carry no information for the register: they are left out of the search. */
    public static boolean irrelevant(Op op) {
        return (op.kind() == dev.flotilla.chaos.history.OpKind.READ && op.outcome() == Outcome.UNKNOWN)
                || (op.outcome() == Outcome.FAIL && op.failReason() == Op.FailReason.NONE);
    }
}

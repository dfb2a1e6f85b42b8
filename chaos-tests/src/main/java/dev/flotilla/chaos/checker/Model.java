package dev.flotilla.chaos.checker;

import dev.flotilla.chaos.history.Op;

/**
 * A sequential specification over small integer states, so the search can memoise
 * (linearized set, state) cheaply.
 */
public interface Model {

    /** Returned by {@link #step} when the op cannot have happened, with its recorded result, in that state. */
    int ILLEGAL = -1;

    /** The state before any op. */
    int initial();

    /**
     * The state after {@code op} takes effect in {@code state}, if the op's recorded result is what
     * the specification gives there; otherwise {@link #ILLEGAL}. An op of unknown outcome accepts
     * whatever result the specification gives.
     */
    int step(int state, Op op);

    /** A readable name for a state, for failure messages. */
    String describe(int state);
}

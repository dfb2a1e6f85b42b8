package dev.flotilla.statemachine;

import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * What the node's agent, controller and metrics hear from the state machine. Callbacks run on Ratis's
 * apply thread: keep them short and hand real work to another thread.
 */
public interface RegistryListener {
    /** A command was applied (or rejected) at a log index; {@code applyNanos} is the time apply took. */
    default void onApplied(long index, Command command, CommandResult result, long applyNanos) {}

    /** The group has a new leader (or none, when {@code newLeader} is null). */
    default void onLeaderChanged(RaftPeerId newLeader) {}

    /** This node became leader and has applied its own first entry of the term: it may now lead. */
    default void onLeaderReady() {}

    /** The store was replaced by an installed snapshot; local caches must be rebuilt from it. */
    default void onReloaded(long appliedIndex) {}
}

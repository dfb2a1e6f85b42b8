package dev.flotilla.statemachine;

import dev.flotilla.proto.CommandResult;
import java.util.List;

/** What applying one command yields: the result every replica returns, and the writes that make it so. */
public record Outcome(CommandResult result, List<Change> changes) {
    public Outcome {
        changes = List.copyOf(changes);
    }
}

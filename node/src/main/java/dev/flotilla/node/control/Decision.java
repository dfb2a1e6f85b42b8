package dev.flotilla.node.control;

/** The answer of {@link Placement#place}: a node to run the VM on, or why no node can. */
public sealed interface Decision {

    /** Run the VM on this node. */
    record Place(String nodeId) implements Decision {}

    /** No node fits; the reason names every node and what kept it out, so an operator can act. */
    record Unplaceable(String reason) implements Decision {}
}

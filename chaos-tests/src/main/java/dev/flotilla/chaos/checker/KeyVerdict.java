package dev.flotilla.chaos.checker;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** The result of the linearizability search over the ops of one key. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "result")
@JsonSubTypes({
    @JsonSubTypes.Type(value = KeyVerdict.Linearizable.class, name = "linearizable"),
    @JsonSubTypes.Type(value = KeyVerdict.NotLinearizable.class, name = "not-linearizable"),
    @JsonSubTypes.Type(value = KeyVerdict.Unknown.class, name = "unknown")
})
public sealed interface KeyVerdict {

    /** The key the ops are about. */
    String key();

    /** A linearization exists. */
    record Linearizable(String key, int ops) implements KeyVerdict { }

    /**
     * No linearization exists. {@code linearized} is the longest prefix the search found, {@code stuckState}
     * the model state after it, {@code candidates} the ops that might have come next and none of which fit.
     */
    record NotLinearizable(String key, int ops, java.util.List<String> linearized, String stuckState,
                           java.util.List<String> candidates) implements KeyVerdict { }

    /** The search ran out of its time or memory budget: neither a pass nor a failure. */
    record Unknown(String key, int ops, String reason) implements KeyVerdict { }
}

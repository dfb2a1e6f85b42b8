package dev.flotilla.chaos.history;

import java.util.Objects;

/**
 * One client operation with its invocation and completion times (nanoseconds since the run began).
 *
 * @param id        unique within the history
 * @param client    the client (logical process) that issued it; one op at a time per client
 * @param node      the node whose API received it
 * @param workload  "register", "set" or "final"
 * @param key       the VM id the op is about
 * @param kind      what was asked
 * @param invokeNanos   when the request was sent
 * @param completeNanos when the answer came back; for UNKNOWN, when the client gave up
 * @param outcome   ok / fail / unknown
 * @param read      for an OK read, the state seen; otherwise null
 * @param status    the HTTP status, 0 when none came back
 * @param error     a short reason for FAIL and UNKNOWN, else null
 */
public record Op(long id, int client, String node, String workload, String key, OpKind kind,
                 long invokeNanos, long completeNanos, Outcome outcome, VmState read, int status,
                 String error) {

    public Op {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(outcome, "outcome");
        if (completeNanos < invokeNanos) {
            throw new IllegalArgumentException("op " + id + " completes (" + completeNanos
                    + ") before it is invoked (" + invokeNanos + ")");
        }
        if (kind == OpKind.READ && outcome == Outcome.OK && read == null) {
            throw new IllegalArgumentException("op " + id + " is an OK read without a value");
        }
    }

    /** Latency in nanoseconds. */
    public long latencyNanos() {
        return completeNanos - invokeNanos;
    }

    /** The reason a definite failure gives about the register, or NONE if it says nothing. */
    public FailReason failReason() {
        if (outcome != Outcome.FAIL) {
            return FailReason.NONE;
        }
        return switch (status) {
            case 404 -> FailReason.NOT_FOUND;
            case 409 -> FailReason.ILLEGAL;
            default -> FailReason.NONE;
        };
    }

    /** What a definite failure tells about the VM's state at the moment the op took effect. */
    public enum FailReason {
        /** 404: the VM did not exist. */
        NOT_FOUND,
        /** 409: the transition was illegal from the VM's state. */
        ILLEGAL,
        /** any other definite failure (400, ...): the op did nothing and says nothing of the state. */
        NONE
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append('#').append(id).append(" c").append(client).append('@').append(node).append(' ')
                .append(kind).append(' ').append(key).append(" [").append(invokeNanos / 1_000_000)
                .append("ms..").append(outcome == Outcome.UNKNOWN ? "?" : completeNanos / 1_000_000 + "ms")
                .append("] ").append(outcome);
        if (read != null) {
            b.append(' ').append(read);
        }
        if (status != 0) {
            b.append(" http ").append(status);
        }
        if (error != null) {
            b.append(" (").append(error).append(')');
        }
        return b.toString();
    }
}

package dev.flotilla.statemachine;

import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandBatch;
import dev.flotilla.proto.Rejection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What may share one log entry. The commands of a {@link CommandBatch} are applied in order at the
 * batch's log index, and a VM's version and an assignment's epoch are that index; two commands on one VM
 * in one entry would give two different states the same version and break compare-and-set. So each
 * command names its subjects (the VMs and nodes it changes) and a batch holds no two that share one.
 */
public final class Batch {
    /** The most commands one batch may hold; a node sends more as further entries. */
    public static final int MAX_COMMANDS = 512;
    /** A subject that shares an entry with nothing: a command kind with no named subject goes alone. */
    static final String ALONE = "*";

    private Batch() {}

    /** The VMs ("vm:ID") and nodes ("node:ID") a command changes; {@code *} for a command that must go alone. */
    public static List<String> subjects(Command c) {
        return switch (c.getKindCase()) {
            case UPSERT_VM -> List.of("vm:" + c.getUpsertVm().getJobId());
            case START_VM -> List.of("vm:" + c.getStartVm().getJobId());
            case STOP_VM -> List.of("vm:" + c.getStopVm().getJobId());
            case DELETE_VM -> List.of("vm:" + c.getDeleteVm().getJobId());
            case ASSIGN -> List.of("vm:" + c.getAssign().getJobId());
            case REPORT_STATUS -> List.of("vm:" + c.getReportStatus().getJobId());
            case FS_DELTA -> List.of("vm:" + c.getFsDelta().getJobId());
            case CLAIM_WARM -> List.of("vm:" + c.getClaimWarm().getJobId(), "vm:" + c.getClaimWarm().getWarmVmId());
            case REGISTER_NODE -> List.of("node:" + c.getRegisterNode().getNode().getId());
            case SET_NODE_STATE -> List.of("node:" + c.getSetNodeState().getNodeId());
            case REMOVE_NODE -> List.of("node:" + c.getRemoveNode().getNodeId());
            default -> List.of(ALONE);
        };
    }

    /** Whether a command may join a batch whose commands already hold {@code taken}. */
    public static boolean fits(Set<String> taken, List<String> subjects) {
        if (taken.contains(ALONE)) return false;
        if (subjects.contains(ALONE)) return taken.isEmpty();
        for (String s : subjects) {
            if (taken.contains(s)) return false;
        }
        return true;
    }

    /** The checks a batch needs before it enters the log: its shape, then each command's own. */
    static Optional<Rejection> precheck(CommandBatch batch) {
        Optional<Rejection> shape = checkShape(batch);
        if (shape.isPresent()) {
            return shape;
        }
        for (Command c : batch.getCommandsList()) {
            Optional<Rejection> own = Rules.precheck(c);
            if (own.isPresent()) {
                return own;
            }
        }
        return Optional.empty();
    }

    /**
     * The batch's shape alone: how many commands, none nested, no subject twice. Apply checks only this;
     * each command's own checks run once, in {@link Rules#apply}.
     */
    static Optional<Rejection> checkShape(CommandBatch batch) {
        if (batch.getCommandsCount() == 0) {
            return Optional.of(Reject.invalid("batch.commands", "a batch holds at least one command"));
        }
        if (batch.getCommandsCount() > MAX_COMMANDS) {
            return Optional.of(Reject.invalid("batch.commands", "a batch holds at most " + MAX_COMMANDS
                    + " commands, not " + batch.getCommandsCount()));
        }
        Set<String> taken = new HashSet<>();
        for (int i = 0; i < batch.getCommandsCount(); i++) {
            Command c = batch.getCommands(i);
            String at = "batch.commands[" + i + "]";
            if (c.hasBatch()) {
                return Optional.of(Reject.invalid(at, "batches do not nest"));
            }
            List<String> subjects = subjects(c);
            if (!fits(taken, subjects)) {
                return Optional.of(Reject.invalid(at, "it changes " + String.join(", ", subjects)
                        + ", which an earlier command of the batch changes too; send it in another entry"));
            }
            taken.addAll(subjects);
        }
        return Optional.empty();
    }
}

package dev.flotilla.node.sim;

import dev.flotilla.proto.FileChange;

import java.util.List;

/**
 * A batch of one VM's coalesced file changes, handed out for replication (the lead wraps it in an
 * {@code FsDelta} command with the VM's job id and epoch).
 */
public record FsBatch(String vmId, List<FileChange> changes, long bytes) {
}

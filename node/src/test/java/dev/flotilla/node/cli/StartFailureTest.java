package dev.flotilla.node.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.NodeConfig;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** A failed start names every cause, and for a damaged Raft log says how to bring the node back. */
class StartFailureTest {
    private static NodeConfig config() {
        NodeConfig c = new NodeConfig();
        c.nodeId = "n3";
        c.dataDir = "/var/lib/flotilla";
        c.raftAddress = "10.1.1.3:9088";
        return c;
    }

    @Test
    void aDamagedLogNamesTheDirectoryAndTheRemedy() {
        // the shape Ratis gives when a segment's checksum does not match
        Exception e = new IOException("start failed", new IllegalStateException("n3@group-1: Failed to initRaftLog.",
                new IOException("Corrupted log entry: checksum mismatch at offset 4711 in log_inprogress_100")));
        String message = StartFailureTest.describe(e);
        assertTrue(message.contains("checksum mismatch"), message);
        assertTrue(message.contains("/var/lib/flotilla/raft"), message);
        assertTrue(message.contains("flotilla cluster remove-peer n3"), message);
        assertTrue(message.contains("--join"), message);
        assertTrue(message.contains("flotilla cluster add-peer n3 10.1.1.3:9088"), message);
    }

    @Test
    void anOtherFailureGetsItsCausesButNoLogAdvice() {
        String message = describe(new IOException("cannot bind", new IllegalArgumentException("port 9088 in use")));
        assertTrue(message.contains("port 9088 in use"), message);
        assertFalse(message.contains("remove-peer"), message);
    }

    private static String describe(Exception e) {
        return NodeCommand.startFailure(e, config());
    }
}

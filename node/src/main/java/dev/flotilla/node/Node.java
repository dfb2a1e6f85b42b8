package dev.flotilla.node;

import dev.flotilla.node.api.HttpApi;
import dev.flotilla.node.api.Routes;
import dev.flotilla.node.metrics.NodeMetrics;
import dev.flotilla.node.raft.RaftNode;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.statemachine.RegistryListener;
import dev.flotilla.statemachine.RegistrySettings;
import dev.flotilla.statemachine.RegistryStateMachine;
import java.io.IOException;
import java.nio.file.Files;
import java.util.concurrent.CountDownLatch;
import org.apache.ratis.protocol.RaftPeerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One Flotilla node: the replicated registry, its Raft seat, and the HTTP API in front of them. */
public final class Node implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("node");

    private final NodeConfig config;
    private final NodeMetrics metrics = new NodeMetrics();
    private final RegistryStateMachine stateMachine;
    private final RaftNode raft;
    private HttpApi api;
    private final CountDownLatch stopped = new CountDownLatch(1);

    public Node(NodeConfig config) {
        this.config = config;
        // The Raft log is fsynced before an entry commits; RocksDB's WAL is written without fsync, which
        // survives a killed process, and a lost machine replays from the log above the last checkpoint.
        this.stateMachine = new RegistryStateMachine(new RegistrySettings(config.subnet, false));
        this.raft = new RaftNode(config, stateMachine);
    }

    public void start() throws IOException, InterruptedException {
        Files.createDirectories(config.dataPath());
        stateMachine.addListener(new RegistryListener() {
            @Override
            public void onApplied(long index, Command command, CommandResult result, long applyNanos) {
                metrics.applied(command.getKindCase().name().toLowerCase(java.util.Locale.ROOT), applyNanos);
                if (result.hasRejection()) metrics.rejected(result.getRejection().getCode().name().toLowerCase(java.util.Locale.ROOT));
            }

            @Override
            public void onLeaderChanged(RaftPeerId newLeader) {
                metrics.leaderChanged();
                LOG.info("leader is now {}", newLeader == null ? "unknown" : newLeader);
            }

            @Override
            public void onLeaderReady() {
                LOG.info("this node leads the cluster");
            }
        });
        raft.start();
        metrics.gauge("flotilla_raft_term", "Current Raft term seen by this node", () -> raft.view().term());
        metrics.gauge("flotilla_raft_commit_index", "Last committed log index", () -> raft.view().commitIndex());
        metrics.gauge("flotilla_raft_applied_index", "Last applied log index", () -> raft.view().appliedIndex());
        metrics.gauge("flotilla_raft_is_leader", "1 while this node leads", () -> raft.view().isLeader() ? 1 : 0);
        api = new HttpApi(HostPort.parse(config.apiAddress), new Routes(raft, metrics, config.nodeId), config.maxBodyBytes);
        api.start();
        LOG.info("node {} started: api http://{}, raft {}, data {}, {} peer(s){}", config.nodeId, config.apiAddress,
                config.raftAddress, config.dataPath().toAbsolutePath(), config.peers.size(),
                config.join ? ", waiting to be added (join)" : "");
        if (config.unsafeLocalReads) LOG.warn("unsafe_local_reads is ON: reads may be stale; for chaos negative controls only");
    }

    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    @Override
    public void close() {
        LOG.info("node {} stopping", config.nodeId);
        if (api != null) api.close();
        try {
            raft.close();
        } catch (IOException e) {
            LOG.warn("error closing the Raft server: {}", e.toString());
        }
        stopped.countDown();
    }
}

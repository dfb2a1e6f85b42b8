package dev.flotilla.node.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.flotilla.node.HostPort;
import dev.flotilla.node.NodeConfig;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.QueryResult;
import dev.flotilla.statemachine.RegistryStateMachine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import java.util.concurrent.TimeUnit;
import java.nio.file.Path;

/** This node's seat in the Raft group: the Ratis server holding the registry, and a client for writes and reads. */
public final class RaftNode implements AutoCloseable {
    /** Every Flotilla cluster runs one group; its id is fixed so that nodes agree without configuration. */
    public static final RaftGroupId GROUP_ID =
            RaftGroupId.valueOf(UUID.nameUUIDFromBytes("flotilla-registry".getBytes(StandardCharsets.UTF_8)));

    private final NodeConfig config;
    private final RegistryStateMachine stateMachine;
    private final RaftPeerId selfId;
    private static final int REQUEST_THREADS = 128;
    private static final int REQUEST_QUEUE = 10000;

    private RaftServer server;
    private RaftClient client;
    private List<RaftPeer> clientPeers;
    private final java.util.concurrent.ThreadPoolExecutor requests = new java.util.concurrent.ThreadPoolExecutor(
            REQUEST_THREADS, REQUEST_THREADS, 30, TimeUnit.SECONDS,
            new java.util.concurrent.ArrayBlockingQueue<>(REQUEST_QUEUE), r -> {
                Thread t = new Thread(r, "raft-request");
                t.setDaemon(true);
                return t;
            });

    private volatile boolean closing;
    /**
     * One entry from this node in flight at once, the next one gathering meanwhile. Measured with 64
     * clients on three local nodes (docs/performance.md): 1 in flight gave ~2,900 commits/s, 2 ~2,250
     * and 4 ~1,950: fewer, larger entries cost the two cores less than more pipelining saves.
     */
    private static final int ENTRIES_IN_FLIGHT = 1;
    private final GroupCommit groupCommit = new GroupCommit(this::send, ENTRIES_IN_FLIGHT, 1 << 20);

    public RaftNode(NodeConfig config, RegistryStateMachine stateMachine) {
        this.config = config;
        this.stateMachine = stateMachine;
        this.selfId = RaftPeerId.valueOf(config.nodeId);
    }

    public static RaftPeer peer(NodeConfig.Peer p) {
        return RaftPeer.newBuilder()
                .setId(p.id)
                .setAddress(p.raft)
                .setClientAddress(p.raft)
                .setAdminAddress(p.raft)
                .build();
    }

    private List<RaftPeer> configuredPeers() {
        List<RaftPeer> out = new ArrayList<>();
        for (NodeConfig.Peer p : config.peers) out.add(peer(p));
        return out;
    }

    RaftProperties serverProperties() {
        NodeConfig.Raft r = config.raft;
        RaftProperties props = new RaftProperties();
        HostPort raft = HostPort.parse(config.raftAddress);
        RaftConfigKeys.Rpc.setType(props, new CatchUpRpc());
        GrpcConfigKeys.Server.setHost(props, raft.host());
        GrpcConfigKeys.Server.setPort(props, raft.port());
        RaftServerConfigKeys.setStorageDir(props, List.of(config.dataPath().resolve("raft").toFile()));
        RaftServerConfigKeys.Rpc.setTimeoutMin(props, TimeDuration.valueOf(r.electionMinMs, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(props, TimeDuration.valueOf(r.electionMaxMs, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(r.requestTimeoutMs, TimeUnit.MILLISECONDS));
        // DESIGN rule 6: reads are linearizable through ReadIndex.
        RaftServerConfigKeys.Read.setOption(props, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        // The lease is set explicitly. Off by default: a lease trusts every node's clock rate, and the
        // chaos runs skew and strobe clocks; ReadIndex costs one heartbeat round and stays correct.
        RaftServerConfigKeys.Read.setLeaderLeaseEnabled(props, r.leaderLease);
        RaftServerConfigKeys.Read.setLeaderLeaseTimeoutRatio(props, r.leaderLeaseRatio);
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(props, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(props, r.snapshotEvery);
        RaftServerConfigKeys.Log.setSegmentSizeMax(props, SizeInBytes.valueOf(r.segmentSizeBytes));
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(props, true);
        RaftServerConfigKeys.Log.setPurgeGap(props, r.purgeGap);
        // Ratis by default logs (and replicates, and fsyncs) an extra entry recording the commit index after
        // each commit, so a restarted node can apply before it hears from a leader. Our state machine keeps
        // its applied index in RocksDB with the data, so that entry only doubles the log work per command.
        RaftServerConfigKeys.Log.setLogMetadataEnabled(props, false);
        return props;
    }

    private RaftProperties clientProperties() {
        RaftProperties props = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(props,
                TimeDuration.valueOf(config.raft.requestTimeoutMs, TimeUnit.MILLISECONDS));
        return props;
    }

    public void start() throws IOException {
        // A joining node starts with an empty group and is added later by a configuration change.
        RaftGroup group = config.join ? RaftGroup.valueOf(GROUP_ID) : RaftGroup.valueOf(GROUP_ID, configuredPeers());
        RaftProperties props = serverProperties();
        server = RaftServer.newBuilder()
                .setServerId(selfId)
                .setGroup(group)
                .setProperties(props)
                .setStateMachine(stateMachine)
                .setOption(RaftStorage.StartupOption.RECOVER)
                .build();
        server.start();
        RaftProperties cprops = clientProperties();
        List<RaftPeer> clientPeers = configuredPeers();
        if (clientPeers.isEmpty()) clientPeers = List.of(peer(new NodeConfig.Peer(config.nodeId, config.raftAddress, "", "")));
        this.clientPeers = clientPeers;
        client = RaftClient.newBuilder()
                .setProperties(cprops)
                .setRaftGroup(RaftGroup.valueOf(GROUP_ID, clientPeers))
                .setClientRpc(new GrpcFactory(new Parameters()).newRaftClientRpc(ClientId.randomId(), cprops))
                .setLeaderId(null)
                // Bounded: a client without quorum is told so (503) instead of waiting forever.
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                        40, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
                .build();
    }

    /**
     * A command stamped as it enters the log from this node: its request id, the wall time here, and
     * this node as its origin (DESIGN rule 1: apply reads time from the entry, never from a clock).
     */
    public Command.Builder command(String requestId) {
        return Command.newBuilder()
                .setRequestId(requestId)
                .setStampedMs(System.currentTimeMillis())
                .setOriginNode(selfId.toString());
    }

    /** The same, with a fresh request id. */
    public Command.Builder command() {
        return command(UUID.randomUUID().toString());
    }

    /**
     * Sends a command through the log; completes with its result once committed and applied. Commands
     * submitted while this node's earlier entries commit share one entry (see {@link GroupCommit}).
     */
    public CompletableFuture<CommandResult> submit(Command command) {
        // A command the leader would refuse goes alone, so that it cannot take a batch down with it.
        if (dev.flotilla.statemachine.Rules.precheck(command).isPresent()) return send(command);
        return groupCommit.submit(command);
    }

    /** Log entries this node sent and the commands they held. */
    public long[] groupCommitCounts() {
        return groupCommit.counts();
    }

    /** Sends one log entry. */
    private CompletableFuture<CommandResult> send(Command entry) {
        Message m = Message.valueOf(ByteString.copyFrom(entry.toByteArray()));
        return call(() -> commandResult(client.io().send(m)));
    }

    /** A linearizable read (ReadIndex); with unsafe_local_reads, a local read that may be stale. */
    public CompletableFuture<QueryResult> query(Query query) {
        Message m = Message.valueOf(ByteString.copyFrom(query.toByteArray()));
        if (config.unsafeLocalReads) {
            return stateMachine.query(m).thenApply(RaftNode::queryResult);
        }
        return call(() -> {
            RaftClientReply reply = client.io().sendReadOnly(m);
            if (!reply.isSuccess()) throw new CompletionException(reply.getException());
            return queryResult(reply.getMessage());
        });
    }

    /** A blocking Ratis call. */
    private interface RaftCall<T> {
        T run() throws IOException;
    }

    /**
     * Runs one Ratis call on the request pool, bounded in time. Each request is its own blocking call:
     * Ratis's ordered async client closes its sliding window for good once one request exhausts its
     * retries (as during an election), which would fail every later request on this node.
     */
    private <T> CompletableFuture<T> call(RaftCall<T> c) {
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return c.run();
                } catch (IOException e) {
                    throw new CompletionException(e);
                }
            }, requests).orTimeout(config.raft.clientTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new IOException(
                    "this node has " + REQUEST_QUEUE + " requests waiting for the cluster; slow down and retry"));
        }
    }

    /** A read of this node's own applied state, possibly stale; named so. */
    public CompletableFuture<QueryResult> queryLocalStale(Query query) {
        Message m = Message.valueOf(ByteString.copyFrom(query.toByteArray()));
        return stateMachine.query(m).thenApply(RaftNode::queryResult);
    }

    private static CommandResult commandResult(RaftClientReply reply) {
        if (!reply.isSuccess()) throw new CompletionException(reply.getException());
        try {
            return CommandResult.parseFrom(reply.getMessage().getContent().toByteArray());
        } catch (InvalidProtocolBufferException e) {
            throw new CompletionException(new IOException("unreadable command result from the state machine", e));
        }
    }

    private static QueryResult queryResult(Message message) {
        try {
            return QueryResult.parseFrom(message.getContent().toByteArray());
        } catch (InvalidProtocolBufferException e) {
            throw new CompletionException(new IOException("unreadable query result from the state machine", e));
        }
    }

    public RaftPeerId selfId() {
        return selfId;
    }

    public RaftServer.Division division() throws IOException {
        return server.getDivision(GROUP_ID);
    }

    /** What this node knows of the group right now, from its own server. */
    public GroupView view() {
        try {
            RaftServer.Division d = division();
            DivisionInfo info = d.getInfo();
            Optional<String> leader = Optional.ofNullable(info.getLeaderId()).map(RaftPeerId::toString);
            List<GroupView.Member> members = new ArrayList<>();
            for (RaftPeer p : d.getRaftConf().getCurrentPeers()) {
                members.add(new GroupView.Member(p.getId().toString(), p.getAddress()));
            }
            members.sort(java.util.Comparator.comparing(GroupView.Member::id));
            long commit = d.getRaftLog().getLastCommittedIndex();
            return new GroupView(selfId.toString(), info.getCurrentRole().name(), leader, info.getCurrentTerm(),
                    commit, info.getLastAppliedIndex(), members, info.isAlive());
        } catch (IOException e) {
            return new GroupView(selfId.toString(), "UNKNOWN", Optional.empty(), 0, 0, 0, List.of(), false);
        }
    }

    public RaftClient client() {
        return client;
    }

    /**
     * The members as the leader holds them. This node's own view may lag a configuration change (or be
     * the view of a node just removed), and a change computed from it would undo or refuse a newer one.
     */
    private List<RaftPeer> leaderPeers() throws IOException {
        RaftPeerId leader = division().getInfo().getLeaderId();
        if (leader == null) throw new IOException("no leader is known right now; retry once GET /health shows one");
        org.apache.ratis.protocol.GroupInfoReply info = client.getGroupManagementApi(leader).info(GROUP_ID);
        // Ratis 3.2 leaves the configuration proto out of the reply; the group it sends is built from the
        // leader's current configuration.
        return info.getConf().map(c -> org.apache.ratis.util.ProtoUtils.toRaftPeers(c.getPeersList()))
                .orElseGet(() -> List.copyOf(info.getGroup().getPeers()));
    }

    /**
     * A client for one configuration change. A new member first catches up (a snapshot and the log's
     * tail), which on a loaded host takes far longer than one command, so each attempt may take 8 s and
     * attempts go on for 20 s, which still answers within the CLI's 30 s.
     */
    private RaftClient membershipClient() {
        RaftProperties props = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(8, TimeUnit.SECONDS));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        RetryPolicy untilDeadline = event -> System.nanoTime() < deadline
                ? RetryPolicies.retryForeverWithSleep(TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)).handleAttemptFailure(event)
                : RetryPolicies.noRetry().handleAttemptFailure(event);
        return RaftClient.newBuilder()
                .setProperties(props)
                .setRaftGroup(RaftGroup.valueOf(GROUP_ID, clientPeers))
                .setClientRpc(new GrpcFactory(new Parameters()).newRaftClientRpc(ClientId.randomId(), props))
                .setRetryPolicy(untilDeadline)
                .build();
    }

    /** Adds a peer by a configuration change; the new peer must already be running with join: true. */
    public RaftClientReply addPeer(RaftPeer newPeer) throws IOException {
        List<RaftPeer> peers = new ArrayList<>(leaderPeers());
        if (peers.stream().anyMatch(p -> p.getId().equals(newPeer.getId())))
            throw new IllegalArgumentException("peer " + newPeer.getId() + " is already a member");
        peers.add(newPeer);
        // Ratis 3.2's array overload drops the server list; the List overload keeps it.
        try (RaftClient membership = membershipClient()) {
            return membership.admin().setConfiguration(peers, List.of());
        }
    }

    public RaftClientReply removePeer(RaftPeerId id) throws IOException {
        List<RaftPeer> peers = new ArrayList<>(leaderPeers());
        if (!peers.removeIf(p -> p.getId().equals(id)))
            throw new IllegalArgumentException("peer " + id + " is not a member");
        if (peers.isEmpty()) throw new IllegalArgumentException("cannot remove the last member");
        try (RaftClient membership = membershipClient()) {
            return membership.admin().setConfiguration(peers, List.of());
        }
    }

    public RaftClientReply transferLeader(RaftPeerId to, long timeoutMs) throws IOException {
        return client.admin().transferLeadership(to, timeoutMs);
    }

    public RaftClientReply snapshot(long timeoutMs) throws IOException {
        // Forced: an operator asking for a snapshot gets one, whatever the automatic creation gap.
        return client.getSnapshotManagementApi(selfId).create(true, timeoutMs);
    }

    public RaftClientReply pauseElection() throws IOException {
        return client.getLeaderElectionManagementApi(selfId).pause();
    }

    public RaftClientReply resumeElection() throws IOException {
        return client.getLeaderElectionManagementApi(selfId).resume();
    }

    public Path dataDir() {
        return config.dataPath();
    }

    /**
     * The Raft server's state when it has stopped by itself rather than through {@link #close()} (Ratis
     * closes a member that a leader tells to shut down, or whose log or state machine failed), else empty.
     */
    public java.util.Optional<org.apache.ratis.util.LifeCycle.State> stoppedByItself() {
        if (closing || server == null) return java.util.Optional.empty();
        try {
            org.apache.ratis.util.LifeCycle.State s = division().getInfo().getLifeCycleState();
            return s.isClosingOrClosed() || s == org.apache.ratis.util.LifeCycle.State.EXCEPTION
                    ? java.util.Optional.of(s) : java.util.Optional.empty();
        } catch (IOException e) {
            return java.util.Optional.empty(); // the group is not on this server yet
        }
    }

    @Override
    public void close() throws IOException {
        closing = true;
        requests.shutdownNow();
        if (client != null) client.close();
        if (server != null) server.close();
    }
}

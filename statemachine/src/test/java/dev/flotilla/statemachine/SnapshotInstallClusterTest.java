package dev.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.ListVms;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.QueryResult;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real Ratis servers in this JVM (gRPC on loopback, storage in temp dirs). A follower is stopped,
 * the leader snapshots and purges its log past it, and the follower, restarted, can only catch up by
 * installing the leader's snapshot: it must end with the leader's digest.
 */
class SnapshotInstallClusterTest {
    static final Duration DEADLINE = Duration.ofSeconds(120);
    static final RaftGroupId GROUP = RaftGroupId.valueOf(java.util.UUID.fromString("02511d47-d67c-49a3-9011-abb3109a44c1"));

    @TempDir Path tmp;
    RaftServer[] byIndex = new RaftServer[3];
    RegistryStateMachine[] machines = new RegistryStateMachine[3];
    RaftGroup group;

    @AfterEach
    void stop() throws IOException {
        for (RaftServer s : byIndex) {
            if (s != null) {
                s.close();
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    RaftProperties properties(int i) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(tmp.resolve("n" + i).toFile()));
        String address = group.getPeer(RaftPeerId.valueOf("n" + i)).getAddress();
        GrpcConfigKeys.Server.setPort(p, Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)));
        // Generous timeouts: the test shares two cores with other builds.
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(1500, java.util.concurrent.TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(3000, java.util.concurrent.TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(10, java.util.concurrent.TimeUnit.SECONDS));
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        // Snapshot often and purge the log up to the snapshot, so a stopped follower falls behind the log start.
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, 20);
        RaftServerConfigKeys.Log.setPurgeGap(p, 4);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("4KB"));
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
        return p;
    }

    RaftServer start(int i, RegistryListener listener) throws IOException {
        RegistryStateMachine sm = new RegistryStateMachine(new RegistrySettings("10.20.0.0/16", false));
        sm.addListener(listener);
        RaftServer s = RaftServer.newBuilder()
                .setServerId(RaftPeerId.valueOf("n" + i))
                .setGroup(group)
                .setProperties(properties(i))
                .setStateMachine(sm)
                .setOption(RaftStorage.StartupOption.RECOVER)
                .build();
        s.start();
        machines[i] = sm;
        byIndex[i] = s;
        return s;
    }

    static void await(String what, BooleanSupplier condition, Supplier<String> state) {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out after " + DEADLINE + " waiting for " + what + "; state: " + state.get());
            }
            try {
                Thread.sleep(50); // poll interval of a deadline-bounded wait, not a synchronisation
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }

    static Message message(com.google.protobuf.MessageLite m) {
        return Message.valueOf(UnsafeByteOperations.unsafeWrap(m.toByteArray()));
    }

    static CommandResult send(RaftClient client, Command c) throws IOException {
        RaftClientReply reply = client.io().send(message(c));
        assertTrue(reply.isSuccess(), () -> "command not committed: " + reply);
        return CommandResult.parseFrom(reply.getMessage().getContent().toByteArray());
    }

    int leader() {
        for (int i = 0; i < 3; i++) {
            try {
                if (byIndex[i] != null && byIndex[i].getDivision(GROUP).getInfo().isLeader()) {
                    return i;
                }
            } catch (IOException | RuntimeException e) {
                // not running or not in the group yet
            }
        }
        return -1;
    }

    @Test
    void laggingFollowerCatchesUpBySnapshotInstall() throws Exception {
        List<RaftPeer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            peers.add(RaftPeer.newBuilder().setId("n" + i).setAddress("127.0.0.1:" + freePort()).build());
        }
        group = RaftGroup.valueOf(GROUP, peers);
        AtomicInteger leaderReady = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            start(i, new RegistryListener() {
                @Override
                public void onLeaderReady() {
                    leaderReady.incrementAndGet();
                }
            });
        }
        await("a leader", () -> leader() >= 0, () -> "no leader among n0..n2");

        RaftProperties clientProps = new RaftProperties();
        RaftServerConfigKeys.Rpc.setRequestTimeout(clientProps, TimeDuration.valueOf(10, java.util.concurrent.TimeUnit.SECONDS));
        try (RaftClient client = RaftClient.newBuilder().setProperties(clientProps).setRaftGroup(group).build()) {
            for (int i = 0; i < 15; i++) {
                CommandResult r = send(client, Commands.upsert("early-" + i, Commands.process()));
                assertFalse(r.hasRejection(), r::toString);
                assertTrue(r.getIndex() > 0 && r.getVm().getVersion() == r.getIndex(), r::toString);
            }
            // The leader rejects an invalid command before it enters the log.
            long before = machines[leader()].appliedIndex();
            IOException refused = assertThrows(IOException.class,
                    () -> client.io().send(message(Commands.upsert("../etc/passwd", Commands.process()))));
            assertTrue(String.valueOf(refused.getMessage()).contains("job_id"), () -> "message: " + refused);
            // A business error is a committed result, alike everywhere.
            CommandResult unknown = send(client, Commands.start("ghost"));
            assertTrue(unknown.hasRejection() && unknown.getIndex() > before, unknown::toString);

            int lagging = (leader() + 1) % 3;
            long laggingApplied = machines[lagging].appliedIndex();
            await("the follower to apply what was committed", () -> machines[lagging].appliedIndex() >= unknown.getIndex(),
                    () -> "follower at " + machines[lagging].appliedIndex());
            byIndex[lagging].close();
            byIndex[lagging] = null;

            for (int i = 0; i < 90; i++) {
                CommandResult r = send(client, i % 3 == 2 ? Commands.stop("late-" + (i - 1))
                        : Commands.upsert("late-" + i, Commands.process()));
                assertFalse(r.hasRejection(), r::toString);
            }
            int lead = leader();
            long followerEnd = machines[lagging].appliedIndex();
            await("the leader to purge its log past the stopped follower", () -> {
                int l = leader();
                try {
                    return l >= 0 && byIndex[l].getDivision(GROUP).getRaftLog().getStartIndex() > followerEnd + 1;
                } catch (IOException e) {
                    return false;
                }
            }, () -> "leader " + leader() + ", follower stopped at " + followerEnd);

            AtomicLong reloadedAt = new AtomicLong(-1);
            start(lagging, new RegistryListener() {
                @Override
                public void onReloaded(long appliedIndex) {
                    reloadedAt.set(appliedIndex);
                }
            });
            long target = machines[leader() >= 0 ? leader() : lead].appliedIndex();
            await("the restarted follower to catch up", () -> machines[lagging].appliedIndex() >= target
                            && machines[lagging].digest().digest().equals(machines[lead].digest().digest()),
                    () -> "follower applied " + machines[lagging].appliedIndex() + ", leader " + target
                            + ", reloaded at " + reloadedAt.get());
            assertTrue(reloadedAt.get() > followerEnd, () -> "the follower must have loaded a snapshot from the leader,"
                    + " reloaded at " + reloadedAt.get() + ", it stopped at " + followerEnd);
            assertTrue(laggingApplied >= 0);

            // A linearizable read through the leader, and a stale read from the restarted follower.
            QueryResult all = QueryResult.parseFrom(client.io().sendReadOnly(message(Query.newBuilder()
                    .setListVms(ListVms.getDefaultInstance()).build())).getMessage().getContent().toByteArray());
            assertEquals(15 + 60, all.getVmsCount(), "every committed create is visible");
            RaftClientReply stale = client.io().sendStaleRead(message(Query.newBuilder()
                    .setListVms(ListVms.getDefaultInstance()).build()), target, RaftPeerId.valueOf("n" + lagging));
            assertEquals(75, QueryResult.parseFrom(stale.getMessage().getContent().toByteArray()).getVmsCount());
            assertNotNull(machines[lagging].getLatestSnapshot());
        }
        assertTrue(leaderReady.get() >= 1, "the leader was told it is ready");
    }

    @Test
    void wholeClusterRestartKeepsStateAndRequestIds() throws Exception {
        List<RaftPeer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            peers.add(RaftPeer.newBuilder().setId("n" + i).setAddress("127.0.0.1:" + freePort()).build());
        }
        group = RaftGroup.valueOf(GROUP, peers);
        RegistryListener none = new RegistryListener() {};
        for (int i = 0; i < 3; i++) {
            start(i, none);
        }
        await("a leader", () -> leader() >= 0, () -> "no leader among n0..n2");
        CommandResult first;
        try (RaftClient client = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(group).build()) {
            for (int i = 0; i < 10; i++) {
                send(client, Commands.upsert("vm-" + i, Commands.process()));
            }
            first = send(client, Commands.withRequestId(Commands.delete("vm-3"), "client-req-1"));
            assertFalse(first.hasRejection(), first::toString);
        }
        long applied = first.getIndex();
        for (int i = 0; i < 3; i++) {
            int n = i;
            await("n" + i + " to apply index " + applied, () -> machines[n].appliedIndex() >= applied,
                    () -> "at " + machines[n].appliedIndex());
        }
        String digest = machines[0].digest().digest();
        for (int i = 0; i < 3; i++) {
            byIndex[i].close();
            byIndex[i] = null;
        }
        for (int i = 0; i < 3; i++) {
            start(i, none);
            assertEquals(digest, machines[i].digest().digest(), "n" + i + " reopens its store where it stopped");
            assertTrue(machines[i].appliedIndex() >= applied, "the applied index survives a restart");
        }
        await("a leader after restart", () -> leader() >= 0, () -> "no leader among n0..n2");
        // A new client (so Ratis's in-memory retry cache cannot help) repeats the request id.
        try (RaftClient client = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(group).build()) {
            CommandResult again = send(client, Commands.withRequestId(Commands.delete("vm-3"), "client-req-1"));
            assertTrue(again.getDuplicate(), () -> "the replicated dedupe table survives restart: " + again);
            assertEquals(first.getVm(), again.getVm());
            CommandResult next = send(client, Commands.stop("vm-4"));
            assertTrue(next.getIndex() > applied && !next.hasRejection(), next::toString);
            CommandResult unstamped = send(client, Commands.upsert("vm-late", Commands.process()).toBuilder()
                    .clearStampedMs().build());
            assertTrue(unstamped.getVm().getCreatedMs() > 0, () -> "the leader stamps a missing time: " + unstamped);
        }
    }
}

package dev.flotilla.node.raft;

import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis' gRPC transport with one repair: a leader also sends its snapshot to a follower whose next entry is
 * the first one left in the leader's log when the entry before it was purged into a later snapshot.
 *
 * <p>Segments roll where the term changes, so a follower that stopped at the end of a term needs exactly
 * the first entry of a purged log. Ratis 3.2.2 sends a snapshot only when the follower's next index lies
 * before the log's start; at the start itself it finds no previous entry to send with the first one, its
 * appender to that follower dies on a NullPointerException and is never restarted, and the follower hears
 * nothing until the leader changes (chaos finding 7, PurgedLogCatchUpTest). The server selects this
 * transport by class name through {@code raft.rpc.type}.
 */
public final class CatchUpRpc implements RpcType {
    private static final Logger LOG = LoggerFactory.getLogger(CatchUpRpc.class);

    @Override
    public String name() {
        return CatchUpRpc.class.getName();
    }

    @Override
    public RpcFactory newFactory(Parameters parameters) {
        return new Factory(parameters);
    }

    private static final class Factory extends GrpcFactory {
        Factory(Parameters parameters) {
            super(parameters);
        }

        @Override
        public LogAppender newLogAppender(RaftServer.Division server, LeaderState leader, FollowerInfo follower) {
            return new Appender(server, leader, follower);
        }
    }

    private static final class Appender extends GrpcLogAppender {
        Appender(RaftServer.Division server, LeaderState leader, FollowerInfo follower) {
            super(server, leader, follower);
        }

        @Override
        public SnapshotInfo shouldInstallSnapshot() {
            SnapshotInfo ratis = super.shouldInstallSnapshot();
            if (ratis != null) return ratis;
            SnapshotInfo ours = snapshotOverPurgedPrevious(getFollower(), getRaftLog(),
                    getServer().getStateMachine().getLatestSnapshot());
            if (ours != null) {
                CatchUpRpc.LOG.info("{}: sending snapshot {} to {}: its next entry {} starts this log,"
                        + " the one before is purged", getServer().getId(), ours.getTermIndex(), getFollowerId(),
                        getFollower().getNextIndex());
            }
            return ours;
        }
    }

    /**
     * The snapshot to send when the follower's next entry is in the log but the entry before it is gone and
     * only a later snapshot covers it; null when appending works (or when no snapshot could help).
     */
    static SnapshotInfo snapshotOverPurgedPrevious(FollowerInfo follower, RaftLog log, SnapshotInfo latest) {
        long next = follower.getNextIndex();
        if (next <= RaftLog.LEAST_VALID_LOG_INDEX || next >= log.getNextIndex()) return null;
        if (log.getTermIndex(next - 1) != null) return null;
        if (latest == null || latest.getIndex() < next) return null;
        // Ratis appends without a previous entry right after a snapshot it installed on that follower.
        if (follower.getSnapshotIndex() + 1 == next) return null;
        return latest;
    }
}

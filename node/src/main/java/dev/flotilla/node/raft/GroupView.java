package dev.flotilla.node.raft;

import java.util.List;
import java.util.Optional;

/** A snapshot of what one node knows of the Raft group: its role, the leader, term and indexes, the members. */
public record GroupView(String self, String role, Optional<String> leader, long term, long commitIndex,
                        long appliedIndex, List<Member> members, boolean alive) {

    /** One voting member of the current configuration. */
    public record Member(String id, String raftAddress) {}

    public boolean isLeader() {
        return "LEADER".equals(role);
    }
}

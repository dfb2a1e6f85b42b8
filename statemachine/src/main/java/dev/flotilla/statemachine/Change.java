package dev.flotilla.statemachine;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DnsRecord;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.VmRecord;

/** One write the rules ask for; the store turns a command's list of them into one WriteBatch, in order. */
public sealed interface Change {
    /** Writes a VM record under its job id. */
    record PutVm(VmRecord vm) implements Change {}

    /** Deletes a VM record. */
    record RemoveVm(String jobId) implements Change {}

    /** Writes a node record. */
    record PutNode(NodeRecord node) implements Change {}

    /** Deletes a node record. */
    record RemoveNode(String nodeId) implements Change {}

    /** Marks an address as held by a job. */
    record TakeAddress(String ip, String jobId) implements Change {}

    /** Returns an address to the pool. */
    record FreeAddress(String ip) implements Change {}

    /** Writes a DNS record (A, PTR or CNAME). */
    record PutDns(DnsRecord record) implements Change {}

    /** Deletes a DNS record. */
    record RemoveDns(String type, String name) implements Change {}

    /** Marks a host port as held by a job, cluster-wide. */
    record TakePort(int port, String proto, String jobId) implements Change {}

    /** Releases a host port. */
    record FreePort(int port, String proto) implements Change {}

    /** Writes one file of a Lua VM. */
    record PutFile(String jobId, String path, ByteString data) implements Change {}

    /** Deletes one file of a Lua VM. */
    record RemoveFile(String jobId, String path) implements Change {}

    /** Remembers a client request id with its first result. */
    record RememberRequest(String requestId, long index, CommandResult result) implements Change {}

    /** Forgets a request id that fell out of the dedupe window. */
    record ForgetRequest(String requestId, long index) implements Change {}
}

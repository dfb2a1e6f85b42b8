package dev.flotilla.statemachine;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DnsRecord;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.VmRecord;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;

/** What the rules may read of the registry. Every answer is a function of the applied log alone. */
public interface RegistryState {
    Optional<VmRecord> vm(String jobId);

    Optional<NodeRecord> node(String nodeId);

    Optional<DnsRecord> dns(String type, String name);

    /** The job holding a host port, cluster-wide. */
    Optional<String> portHolder(int port, String proto);

    /** The lowest address of the subnet that no VM holds, or empty when the subnet is full. */
    Optional<String> lowestFreeAddress();

    Subnet subnet();

    /** A VM's files, by path, in path order. */
    SortedMap<String, ByteString> files(String jobId);

    /** The first result of a client request id, if it is still remembered. */
    Optional<CommandResult> request(String requestId);

    /** Remembered request ids applied at or below an index, oldest first, at most {@code limit}. */
    List<RequestMark> requestsUpTo(long index, int limit);

    /** A remembered request id and the log index it was first applied at. */
    record RequestMark(long index, String requestId) {}
}

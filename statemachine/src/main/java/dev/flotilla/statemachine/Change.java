package dev.flotilla.statemachine;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DnsRecord;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.VmRecord;

/** One write the rules ask for; the store turns a command's list of them into one WriteBatch, in order. */
public sealed interface Change {
  record PutVm(VmRecord vm) implements Change {}

  record RemoveVm(String jobId) implements Change {}

  record PutNode(NodeRecord node) implements Change {}

  record RemoveNode(String nodeId) implements Change {}

  record TakeAddress(String ip, String jobId) implements Change {}

  record FreeAddress(String ip) implements Change {}

  record PutDns(DnsRecord record) implements Change {}

  record RemoveDns(String type, String name) implements Change {}

  record TakePort(int port, String proto, String jobId) implements Change {}

  record FreePort(int port, String proto) implements Change {}

  record PutFile(String jobId, String path, ByteString data) implements Change {}

  record RemoveFile(String jobId, String path) implements Change {}

  record RememberRequest(String requestId, long index, CommandResult result) implements Change {}

  record ForgetRequest(String requestId, long index) implements Change {}
}

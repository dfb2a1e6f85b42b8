package dev.flotilla.node.backend.lua;

import dev.flotilla.proto.VmRecord;

import java.util.Map;
import java.util.Optional;

/** What the Lua backend reads from this node's applied registry (stale reads are fine: see LuaBackend). */
public interface LuaRecords {

    /** The record of the machine with this name (its vm_id, which equals the job id unless claimed warm). */
    Optional<VmRecord> record(String machine);

    /** The files the log holds for a job, by path. */
    Map<String, byte[]> files(String jobId);
}

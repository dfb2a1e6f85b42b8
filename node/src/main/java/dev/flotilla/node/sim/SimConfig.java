package dev.flotilla.node.sim;

/**
 * Knobs of the simulated-VM runtime. {@link #defaults()} gives the values the node uses unless its
 * configuration says otherwise.
 *
 * @param shards              worker shards (threads), each with its own Lua globals
 * @param ticksPerSecond      the steady tick rate
 * @param instructionBudget   Lua VM instructions one handler call may run before its VM is stopped
 * @param maxCallDepth        nested Lua calls one handler may make
 * @param maxStringBytes      largest string string.rep, table.concat, gsub, format or '..' may build
 * @param maxPacketBytes      largest payload net.send accepts
 * @param maxSendsPerTick     packets one VM may send in one tick; more are dropped as QUEUE_FULL
 * @param mailboxCapacity     packets waiting for one VM; more are dropped as QUEUE_FULL
 * @param logLines            log lines kept per VM
 * @param maxTimersPerVm      timers one VM may have pending
 * @param defaultFsQuotaBytes a VM's file quota when its spec names none
 * @param fsFlushEveryTicks   how often file changes are handed out
 * @param fsMaxBatchBytes     most bytes of changes in one VM's batch
 * @param fsMaxBytesPerFlush  most bytes handed out per flush over all VMs (the rate bound)
 * @param compileToJvm        run programs compiled to JVM classes (the default) rather than in LuaJ's
 *                            interpreter; the sandbox's limits hold either way
 * @param heapQuotaBytes      the most heap a VM's Lua data may hold (estimated by walking it); past it
 *                            the VM is stopped
 * @param maxCallAllocBytes   the most one handler call may allocate (garbage included, watched from
 *                            another thread); past it the VM is stopped
 */
public record SimConfig(int shards, int ticksPerSecond, long instructionBudget, int maxCallDepth,
                        int maxStringBytes, int maxPacketBytes, int maxSendsPerTick, int mailboxCapacity,
                        int logLines, int maxTimersPerVm, long defaultFsQuotaBytes, int fsFlushEveryTicks,
                        int fsMaxBatchBytes, int fsMaxBytesPerFlush, boolean compileToJvm, long heapQuotaBytes,
                        long maxCallAllocBytes) {

    public SimConfig {
        require(shards >= 1, "shards", shards, "at least 1");
        require(ticksPerSecond >= 1 && ticksPerSecond <= 1000, "ticksPerSecond", ticksPerSecond, "1 to 1000");
        require(instructionBudget >= 100, "instructionBudget", instructionBudget, "at least 100");
        require(maxCallDepth >= 4, "maxCallDepth", maxCallDepth, "at least 4");
        require(maxStringBytes >= 1024, "maxStringBytes", maxStringBytes, "at least 1024");
        require(maxPacketBytes >= 1, "maxPacketBytes", maxPacketBytes, "at least 1");
        require(maxSendsPerTick >= 1, "maxSendsPerTick", maxSendsPerTick, "at least 1");
        require(mailboxCapacity >= 1, "mailboxCapacity", mailboxCapacity, "at least 1");
        require(logLines >= 1, "logLines", logLines, "at least 1");
        require(maxTimersPerVm >= 1, "maxTimersPerVm", maxTimersPerVm, "at least 1");
        require(defaultFsQuotaBytes >= 0, "defaultFsQuotaBytes", defaultFsQuotaBytes, "0 or more");
        require(fsFlushEveryTicks >= 1, "fsFlushEveryTicks", fsFlushEveryTicks, "at least 1");
        require(fsMaxBatchBytes >= 1024, "fsMaxBatchBytes", fsMaxBatchBytes, "at least 1024");
        require(fsMaxBytesPerFlush >= fsMaxBatchBytes, "fsMaxBytesPerFlush", fsMaxBytesPerFlush,
                "at least fsMaxBatchBytes (" + fsMaxBatchBytes + ")");
        require(heapQuotaBytes >= 65_536 && heapQuotaBytes <= Integer.MAX_VALUE, "heapQuotaBytes", heapQuotaBytes,
                "65536 to 2147483647");
        require(maxCallAllocBytes >= 1 << 20, "maxCallAllocBytes", maxCallAllocBytes, "at least 1048576");
    }

    private static void require(boolean ok, String field, Object value, String allowed) {
        if (!ok) {
            throw new IllegalArgumentException("sim." + field + " is " + value + "; allowed: " + allowed);
        }
    }

    /**
     * cores-1 shards (at least one), 60 TPS, 100k instructions per handler call, 1 MiB strings, 64 MiB
     * of Lua data per VM, 128 MiB allocated per handler call.
     */
    public static SimConfig defaults() {
        int shards = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
        return new SimConfig(shards, 60, 100_000, 200, 1 << 20, 64 * 1024, 1024, 256, 200, 1024,
                1 << 20, 60, 64 * 1024, 1 << 20, true, 64L << 20, 128L << 20);
    }

    public SimConfig withShards(int n) {
        return new SimConfig(n, ticksPerSecond, instructionBudget, maxCallDepth, maxStringBytes, maxPacketBytes,
                maxSendsPerTick, mailboxCapacity, logLines, maxTimersPerVm, defaultFsQuotaBytes,
                fsFlushEveryTicks, fsMaxBatchBytes, fsMaxBytesPerFlush, compileToJvm, heapQuotaBytes, maxCallAllocBytes);
    }

    public SimConfig withInstructionBudget(long n) {
        return new SimConfig(shards, ticksPerSecond, n, maxCallDepth, maxStringBytes, maxPacketBytes,
                maxSendsPerTick, mailboxCapacity, logLines, maxTimersPerVm, defaultFsQuotaBytes,
                fsFlushEveryTicks, fsMaxBatchBytes, fsMaxBytesPerFlush, compileToJvm, heapQuotaBytes, maxCallAllocBytes);
    }

    public SimConfig withMailboxCapacity(int n) {
        return new SimConfig(shards, ticksPerSecond, instructionBudget, maxCallDepth, maxStringBytes,
                maxPacketBytes, maxSendsPerTick, n, logLines, maxTimersPerVm, defaultFsQuotaBytes,
                fsFlushEveryTicks, fsMaxBatchBytes, fsMaxBytesPerFlush, compileToJvm, heapQuotaBytes, maxCallAllocBytes);
    }

    public SimConfig withFsFlush(int everyTicks, int maxBatchBytes, int maxBytesPerFlush) {
        return new SimConfig(shards, ticksPerSecond, instructionBudget, maxCallDepth, maxStringBytes,
                maxPacketBytes, maxSendsPerTick, mailboxCapacity, logLines, maxTimersPerVm, defaultFsQuotaBytes,
                everyTicks, maxBatchBytes, maxBytesPerFlush, compileToJvm, heapQuotaBytes, maxCallAllocBytes);
    }

    public SimConfig withMaxSendsPerTick(int n) {
        return new SimConfig(shards, ticksPerSecond, instructionBudget, maxCallDepth, maxStringBytes,
                maxPacketBytes, n, mailboxCapacity, logLines, maxTimersPerVm, defaultFsQuotaBytes,
                fsFlushEveryTicks, fsMaxBatchBytes, fsMaxBytesPerFlush, compileToJvm, heapQuotaBytes, maxCallAllocBytes);
    }

    public SimConfig withCompileToJvm(boolean on) {
        return new SimConfig(shards, ticksPerSecond, instructionBudget, maxCallDepth, maxStringBytes,
                maxPacketBytes, maxSendsPerTick, mailboxCapacity, logLines, maxTimersPerVm, defaultFsQuotaBytes,
                fsFlushEveryTicks, fsMaxBatchBytes, fsMaxBytesPerFlush, on, heapQuotaBytes, maxCallAllocBytes);
    }

    public SimConfig withHeapLimits(long quotaBytes, long perCallBytes) {
        return new SimConfig(shards, ticksPerSecond, instructionBudget, maxCallDepth, maxStringBytes,
                maxPacketBytes, maxSendsPerTick, mailboxCapacity, logLines, maxTimersPerVm, defaultFsQuotaBytes,
                fsFlushEveryTicks, fsMaxBatchBytes, fsMaxBytesPerFlush, compileToJvm, quotaBytes, perCallBytes);
    }

    /** Nanoseconds between tick starts. */
    public long tickNanos() {
        return 1_000_000_000L / ticksPerSecond;
    }
}

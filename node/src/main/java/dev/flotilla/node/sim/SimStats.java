package dev.flotilla.node.sim;

import java.util.Map;

/**
 * The runtime's counters since start, as plain numbers; the node maps them to Prometheus.
 *
 * @param lateTicks      ticks that started more than half a period after their slot
 * @param overruns       ticks whose work took longer than one period
 * @param maxTickNanos   the longest tick's work in the paced loop so far
 * @param pacedTicks     ticks run by the paced loop (not by step())
 * @param pacedWorkNanos their work time in total (mean tick cost = pacedWorkNanos / pacedTicks)
 * @param fsThrottled    times a VM's file changes had to wait for a later flush (rate bound hit)
 * @param heapChecks     times a VM's heap was measured
 * @param heapQuotaStops VMs stopped for holding more than their heap quota
 * @param callAllocStops VMs stopped for a handler call that allocated more than the limit
 */
public record SimStats(long tick, int vms, int runnable, long handlerCalls, long packetsSent,
                       long packetsDelivered, long packetsCrossNode, Map<String, Long> drops, long lateTicks,
                       long overruns, long lastTickNanos, long maxTickNanos, long pacedTicks, long pacedWorkNanos, long fsBytesOut, long fsBatches,
                       long fsCoalescedWrites, long fsThrottled, long heapChecks, long heapQuotaStops,
                       long callAllocStops, long uptimeMillis) {
}

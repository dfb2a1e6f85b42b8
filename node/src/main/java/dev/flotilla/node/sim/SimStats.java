package dev.flotilla.node.sim;

import java.util.Map;

/**
 * The runtime's counters since start, as plain numbers; the node maps them to Prometheus.
 *
 * @param lateTicks      ticks that started more than half a period after their slot
 * @param overruns       ticks whose work took longer than one period
 * @param maxTickNanos   the longest tick's work so far
 * @param fsThrottled    times a VM's file changes had to wait for a later flush (rate bound hit)
 */
public record SimStats(long tick, int vms, int runnable, long handlerCalls, long packetsSent,
                       long packetsDelivered, long packetsCrossNode, Map<String, Long> drops, long lateTicks,
                       long overruns, long lastTickNanos, long maxTickNanos, long fsBytesOut, long fsBatches,
                       long fsCoalescedWrites, long fsThrottled, long uptimeMillis) {
}

package dev.flotilla.node.net;

/** Where a node hands packets bound for VMs on other nodes (the inter-node transport). */
public interface PacketSink {

    /** Queues a packet for {@code node}; false when it was dropped (the transport counts why). */
    boolean send(String node, Packet packet);

    /** Called once at the end of every tick: send what was queued in it as one batch per node. */
    void flush(long tick);
}

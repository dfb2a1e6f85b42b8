package dev.flotilla.node.net;

/** Why a packet was not delivered; every drop is counted under one of these. */
public enum DropReason {
    /** No VM, node or NAT mapping owns the destination address. */
    NO_ROUTE,
    /** The packet's hop count ran out. */
    TTL,
    /** The destination VM's firewall denied it. */
    FIREWALL,
    /** A bounded queue on the way (a transport queue or the VM's mailbox) was full. */
    QUEUE_FULL
}

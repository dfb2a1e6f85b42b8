package dev.flotilla.node.forward;

import java.io.IOException;
import java.net.InetAddress;

/** An open host port that relays to a guest port; closing it closes the port and every relayed connection. */
sealed interface Relay extends AutoCloseable permits TcpRelay, UdpRelay {

    Forward forward();

    @Override
    void close();

    /** Opens the host port for the forward on the given local address; fails if the port is taken. */
    static Relay open(Forward f, InetAddress bind) throws IOException {
        return switch (f.proto()) {
            case "tcp" -> TcpRelay.open(f, bind);
            case "udp" -> UdpRelay.open(f, bind);
            default -> throw new IOException("unknown protocol '" + f.proto() + "' for host port " + f.hostPort()
                    + "; use tcp or udp");
        };
    }
}

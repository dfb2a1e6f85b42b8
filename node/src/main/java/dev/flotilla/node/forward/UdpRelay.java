package dev.flotilla.node.forward;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A UDP host port: each client address gets its own socket towards the guest port, so the guest's
 * replies find their way back; a session idle for a minute is closed.
 */
final class UdpRelay implements Relay {
    private static final int IDLE_MS = 60_000;
    private static final int MAX_SESSIONS = 1024;
    private final Forward forward;
    private final DatagramSocket socket;
    private final InetSocketAddress guest;
    private final Map<SocketAddress, DatagramSocket> sessions = new ConcurrentHashMap<>();
    private Thread receiver;

    private UdpRelay(Forward forward, DatagramSocket socket) {
        this.forward = forward;
        this.socket = socket;
        this.guest = new InetSocketAddress(forward.target(), forward.guestPort());
    }

    static UdpRelay open(Forward f, InetAddress bind) throws IOException {
        DatagramSocket s = new DatagramSocket(null);
        try {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(bind, f.hostPort()));
        } catch (IOException e) {
            s.close();
            throw e;
        }
        UdpRelay r = new UdpRelay(f, s);
        r.receiver = new Thread(r::receiveLoop, "forward-" + f.key());
        r.receiver.setDaemon(true);
        r.receiver.start();
        return r;
    }

    @Override
    public Forward forward() {
        return forward;
    }

    private void receiveLoop() {
        byte[] buf = new byte[65535];
        while (!socket.isClosed()) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
                SocketAddress client = p.getSocketAddress();
                DatagramSocket s = sessions.get(client);
                if (s == null) {
                    if (sessions.size() >= MAX_SESSIONS) continue; // a flood of sources: drop, as a full conntrack table would
                    s = new DatagramSocket();
                    s.connect(guest);
                    s.setSoTimeout(IDLE_MS);
                    sessions.put(client, s);
                    DatagramSocket session = s;
                    Thread t = new Thread(() -> replies(client, session), "forward-" + forward.key() + "-session");
                    t.setDaemon(true);
                    t.start();
                }
                s.send(new DatagramPacket(p.getData(), p.getOffset(), p.getLength(), guest));
            } catch (IOException e) {
                if (socket.isClosed()) return;
                // one bad datagram (e.g. the guest port refused it) must not end the relay
            }
        }
    }

    private void replies(SocketAddress client, DatagramSocket session) {
        byte[] buf = new byte[65535];
        try {
            while (!session.isClosed()) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    session.receive(p);
                } catch (SocketTimeoutException idle) {
                    return;
                }
                socket.send(new DatagramPacket(p.getData(), p.getOffset(), p.getLength(), client));
            }
        } catch (IOException e) {
            // the session or the relay closed
        } finally {
            sessions.remove(client, session);
            session.close();
        }
    }

    @Override
    public void close() {
        socket.close();
        try {
            receiver.join(5000); // the port is free once the receive call has returned (see TcpRelay.close)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sessions.values().forEach(DatagramSocket::close);
        sessions.clear();
    }
}

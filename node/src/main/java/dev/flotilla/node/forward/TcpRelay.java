package dev.flotilla.node.forward;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP host port: each accepted connection is joined to a new connection to the guest port, bytes
 * copied both ways by two threads until either side closes. Plain blocking sockets: a forward carries
 * a game's RCON or an admin port, a handful of connections, not a data plane.
 */
final class TcpRelay implements Relay {
    private static final int CONNECT_TIMEOUT_MS = 5000;
    /** Relayed connections at once per host port; more are closed at once (each costs two threads). */
    static final int MAX_CONNECTIONS = 256;
    private final Forward forward;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private Thread acceptor;

    private TcpRelay(Forward forward, ServerSocket server) {
        this.forward = forward;
        this.server = server;
    }

    static TcpRelay open(Forward f, InetAddress bind) throws IOException {
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(bind, f.hostPort()), 50);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        TcpRelay r = new TcpRelay(f, s);
        r.acceptor = new Thread(r::acceptLoop, "forward-" + f.key());
        r.acceptor.setDaemon(true);
        r.acceptor.start();
        return r;
    }

    @Override
    public Forward forward() {
        return forward;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (open.size() >= 2 * MAX_CONNECTIONS) {
                closeQuietly(client); // two sockets per relayed connection: at the cap, refuse rather than spawn threads
                continue;
            }
            open.add(client);
            Thread t = new Thread(() -> join(client), "forward-" + forward.key() + "-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private void join(Socket client) {
        Socket guest = new Socket();
        try {
            open.add(guest);
            guest.connect(new InetSocketAddress(forward.target(), forward.guestPort()), CONNECT_TIMEOUT_MS);
            if (server.isClosed()) return;
            Thread back = new Thread(() -> copy(guest, client), "forward-" + forward.key() + "-back");
            back.setDaemon(true);
            back.start();
            copy(client, guest);
            back.join(); // the guest's answer may still be on its way after the client's half-close
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the guest does not listen (yet): the client sees its connection closed
        } finally {
            closeQuietly(client);
            closeQuietly(guest);
        }
    }

    private void copy(Socket from, Socket to) {
        byte[] buf = new byte[16384];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush();
            }
            to.shutdownOutput(); // pass the half-close on, so request/response protocols finish
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void closeQuietly(Socket s) {
        open.remove(s);
        try {
            s.close();
        } catch (IOException ignored) {
            // closing is best effort
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing is best effort
        }
        // The port is only really closed once the accept call returns: until then the kernel still takes
        // connections on it. Wait for that, so "closed" means closed when sync() returns.
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Socket s : open.toArray(new Socket[0])) closeQuietly(s);
    }
}

package dev.flotilla.node.backend.microvm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One short connection to a hypervisor's control socket (a Unix domain socket, through the JDK alone),
 * where every read is bounded by one deadline for the whole exchange.
 */
final class ControlSocket implements AutoCloseable {
    private final SocketChannel channel;
    private final Selector selector;
    private final long deadlineNanos;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private final Path path;

    private ControlSocket(Path path, SocketChannel channel, Selector selector, long deadlineNanos) {
        this.path = path;
        this.channel = channel;
        this.selector = selector;
        this.deadlineNanos = deadlineNanos;
    }

    /** Connects; a Unix connect does not wait for the server to accept, so the deadline covers reads. */
    static ControlSocket connect(Path path, Duration timeout) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(path));
            channel.configureBlocking(false);
            Selector selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
            return new ControlSocket(path, channel, selector, System.nanoTime() + timeout.toNanos());
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    void write(String text) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) {
            if (channel.write(buf) == 0) {
                awaitDeadline("writing");
                Thread.onSpinWait(); // a full socket buffer on a few hundred bytes: rare and brief
            }
        }
    }

    /** The next line without its newline, or null at end of stream. */
    String readLine() throws IOException {
        while (true) {
            byte[] have = pending.toByteArray();
            for (int i = 0; i < have.length; i++) {
                if (have[i] == '\n') {
                    pending.reset();
                    pending.write(have, i + 1, have.length - i - 1);
                    return new String(have, 0, i, StandardCharsets.UTF_8).stripTrailing();
                }
            }
            if (!fill()) {
                pending.reset();
                return have.length == 0 ? null : new String(have, StandardCharsets.UTF_8);
            }
        }
    }

    /** Everything until the peer closes the connection. */
    String readToEnd() throws IOException {
        while (fill()) {
            // keep reading
        }
        String all = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return all;
    }

    /** Reads what is available, waiting up to the deadline; false at end of stream. */
    private boolean fill() throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        while (true) {
            int n = channel.read(buf);
            if (n < 0) {
                return false;
            }
            if (n > 0) {
                pending.write(buf.array(), 0, n);
                return true;
            }
            long left = awaitDeadline("reading");
            selector.select(Math.max(1, left / 1_000_000));
            selector.selectedKeys().clear();
        }
    }

    private long awaitDeadline(String doing) throws SocketTimeoutException {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("no answer on " + path + " while " + doing
                    + " (the socket serves one client at a time; another may hold it)");
        }
        return left;
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            channel.close();
        }
    }
}

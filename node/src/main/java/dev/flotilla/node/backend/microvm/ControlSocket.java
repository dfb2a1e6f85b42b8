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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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
            channel.connect(UnixDomainSocketAddress.of(reachable(path)));
            channel.configureBlocking(false);
            Selector selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
            return new ControlSocket(path, channel, selector, System.nanoTime() + timeout.toNanos());
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    /** Longest socket path connect takes: sun_path is 108 bytes with its NUL; a little kept spare. */
    static final int MAX_PATH_BYTES = 100;
    private static Path aliasDir;

    /**
     * A path to the socket that connect accepts. microvm.nix puts a VM's socket at
     * {@code STATE_DIR/NAME/NAME.sock}, up to 150 bytes with 63-character names, past the kernel's limit
     * of 107; such a socket is reached through a short symlink to it (connect follows symlinks) in a
     * private directory of this process under the temp dir.
     */
    static synchronized Path reachable(Path socket) throws IOException {
        Path abs = socket.toAbsolutePath();
        if (abs.toString().getBytes(StandardCharsets.UTF_8).length <= MAX_PATH_BYTES) {
            return abs;
        }
        if (aliasDir == null || !Files.isDirectory(aliasDir)) {
            aliasDir = Files.createTempDirectory("fl-sock",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            aliasDir.toFile().deleteOnExit(); // after its links: deleteOnExit runs in reverse order
        }
        String key;
        try {
            key = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(abs.toString().getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
        Path link = aliasDir.resolve(key);
        if (!Files.isSymbolicLink(link) || !Files.readSymbolicLink(link).equals(abs)) {
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, abs);
            link.toFile().deleteOnExit();
        }
        return link;
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

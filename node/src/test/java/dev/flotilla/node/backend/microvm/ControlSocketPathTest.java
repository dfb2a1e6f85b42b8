package dev.flotilla.node.backend.microvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A control socket deeper than the kernel's 107-byte limit (microvm.nix's STATE/NAME/NAME.sock) is still reached. */
class ControlSocketPathTest {
    @TempDir
    Path root;

    @Test
    void aSocketPastTheKernelsPathLimitIsReachedThroughAShortLink() throws Exception {
        String name = "game-server-eu-1-" + "0123456789abcdef0123456789abcdef0123456789";
        Path dir = Files.createDirectories(root.resolve("microvms").resolve(name));
        Path socket = dir.resolve(name + ".sock");
        assertTrue(socket.toString().length() > 108, "the path must be past the limit for this test: " + socket);
        // Binding needs a short path too: through a symlink to the directory, as qemu's relative path does.
        Path shortDir = Files.createTempDirectory("fl-t");
        Path link = shortDir.resolve("d");
        Files.createSymbolicLink(link, dir);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(link.resolve(name + ".sock")));
            assertTrue(Files.exists(socket), "the socket file sits in the deep directory");
            IOException direct = assertThrows(IOException.class, () -> {
                try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    c.connect(UnixDomainSocketAddress.of(socket));
                }
            }, "a plain connect to the long path fails");
            assertTrue(direct.getMessage() != null, direct.toString());

            try (ControlSocket client = ControlSocket.connect(socket, Duration.ofSeconds(5));
                 SocketChannel accepted = server.accept()) {
                accepted.write(ByteBuffer.wrap("hello\n".getBytes(StandardCharsets.UTF_8)));
                assertEquals("hello", client.readLine());
            }
        } finally {
            Files.deleteIfExists(link);
            Files.deleteIfExists(shortDir);
        }
    }

    @Test
    void aShortPathIsUsedAsItIs() throws Exception {
        Path socket = root.resolve("q.sock");
        assertEquals(socket.toAbsolutePath(), ControlSocket.reachable(socket));
    }
}

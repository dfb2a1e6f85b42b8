package dev.flotilla.node.backend.microvm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The HTTP API that cloud-hypervisor ({@code --api-socket}) and firecracker ({@code --api-sock}) serve
 * on a Unix socket. Neither can run on the test host (no KVM), so only the parsing is tested.
 */
public final class HypervisorApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HypervisorApi() {}

    /** A parsed HTTP/1.1 reply. */
    public record Reply(int status, String body) {}

    /** The guest's state from the hypervisor named in the runner's share/microvm/hypervisor. */
    public static GuestState query(String hypervisor, Path socket, Duration timeout) throws IOException {
        return switch (hypervisor) {
            case "cloud-hypervisor" -> cloudHypervisorState(get(socket, "/api/v1/vm.info", timeout));
            case "firecracker" -> firecrackerState(get(socket, "/", timeout));
            default -> throw new IOException("no HTTP API for hypervisor '" + hypervisor + "'");
        };
    }

    static GuestState cloudHypervisorState(Reply reply) throws IOException {
        return GuestState.fromCloudHypervisor(stateField(reply, "cloud-hypervisor vm.info"));
    }

    static GuestState firecrackerState(Reply reply) throws IOException {
        return GuestState.fromFirecracker(stateField(reply, "firecracker GET /"));
    }

    private static String stateField(Reply reply, String what) throws IOException {
        if (reply.status() != 200) {
            throw new IOException(what + " answered HTTP " + reply.status() + ": " + reply.body().strip());
        }
        JsonNode state = JSON.readTree(reply.body()).path("state");
        if (!state.isTextual()) {
            throw new IOException(what + " answered without a state: " + reply.body().strip());
        }
        return state.asText();
    }

    static Reply get(Path socket, String path, Duration timeout) throws IOException {
        try (ControlSocket s = ControlSocket.connect(socket, timeout)) {
            s.write("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
                    + "Connection: close\r\n\r\n");
            return parse(s.readToEnd());
        }
    }

    /** Parses a whole reply: status line, headers, and a body sized by Content-Length or chunked. */
    static Reply parse(String raw) throws IOException {
        int headEnd = raw.indexOf("\r\n\r\n");
        if (!raw.startsWith("HTTP/1.") || headEnd < 0) {
            throw new IOException("not an HTTP reply: " + abbreviate(raw));
        }
        String[] head = raw.substring(0, headEnd).split("\r\n");
        String[] statusLine = head[0].split(" ", 3);
        int status;
        try {
            status = Integer.parseInt(statusLine[1]);
        } catch (RuntimeException e) {
            throw new IOException("bad HTTP status line: " + head[0]);
        }
        String body = raw.substring(headEnd + 4);
        for (int i = 1; i < head.length; i++) {
            String h = head[i].toLowerCase(java.util.Locale.ROOT);
            if (h.startsWith("content-length:")) {
                int length = Integer.parseInt(h.substring("content-length:".length()).trim());
                body = body.substring(0, Math.min(length, body.length()));
            } else if (h.startsWith("transfer-encoding:") && h.contains("chunked")) {
                body = unchunk(body);
            }
        }
        return new Reply(status, body);
    }

    private static String unchunk(String body) {
        StringBuilder out = new StringBuilder();
        int at = 0;
        while (at < body.length()) {
            int eol = body.indexOf("\r\n", at);
            if (eol < 0) {
                break;
            }
            int size = Integer.parseInt(body.substring(at, eol).split(";")[0].trim(), 16);
            if (size == 0) {
                break;
            }
            out.append(body, eol + 2, Math.min(body.length(), eol + 2 + size));
            at = eol + 2 + size + 2;
        }
        return out.toString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}

package dev.flotilla.node.backend.microvm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Asks qemu for its run state over QMP. QMP serves one client at a time, so each question is a short
 * connection of its own: greeting, {@code qmp_capabilities}, the command, close.
 */
public final class QmpClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path socket;
    private final Duration timeout;

    public QmpClient(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    /** The {@code status} field of {@code query-status} ("running", "paused", "shutdown", ...). */
    public String queryStatus() throws IOException {
        JsonNode reply = execute("query-status");
        JsonNode status = reply.path("status");
        if (!status.isTextual()) {
            throw new IOException("QMP on " + socket + " answered query-status without a status: " + reply);
        }
        return status.asText();
    }

    /** Runs one command and returns its {@code return} value. */
    public JsonNode execute(String command) throws IOException {
        try (ControlSocket s = ControlSocket.connect(socket, timeout)) {
            JsonNode greeting = readMessage(s);
            if (!greeting.has("QMP")) {
                throw new IOException("not a QMP server on " + socket + ": first message was " + greeting);
            }
            s.write("{\"execute\":\"qmp_capabilities\"}\n");
            awaitReturn(s, "qmp_capabilities");
            s.write("{\"execute\":\"" + command + "\"}\n");
            return awaitReturn(s, command);
        }
    }

    /** Skips asynchronous events until the command's answer. */
    private JsonNode awaitReturn(ControlSocket s, String command) throws IOException {
        while (true) {
            JsonNode msg = readMessage(s);
            if (msg.has("return")) {
                return msg.get("return");
            }
            if (msg.has("error")) {
                throw new IOException("QMP " + command + " on " + socket + " failed: "
                        + msg.get("error").path("desc").asText(msg.get("error").toString()));
            }
        }
    }

    private JsonNode readMessage(ControlSocket s) throws IOException {
        String line;
        do {
            line = s.readLine();
            if (line == null) {
                throw new IOException("QMP on " + socket + " closed the connection (qemu is exiting?)");
            }
        } while (line.isBlank());
        return JSON.readTree(line);
    }
}

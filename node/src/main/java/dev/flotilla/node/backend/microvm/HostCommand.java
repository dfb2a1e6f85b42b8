package dev.flotilla.node.backend.microvm;

import dev.flotilla.node.backend.BackendException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one host command (microvm, systemctl) from an argument list with a time limit. Output goes to
 * files rather than pipes: {@code systemctl start} leaves a supervisor behind, and a pipe it inherited
 * would keep a reader waiting for it.
 */
public final class HostCommand {
    private final Map<String, String> environment;

    public HostCommand(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    /** What a finished command printed and returned. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** The command, its exit code and its stderr (or stdout when stderr is empty), for a message. */
        public String describe() {
            String said = !stderr.isBlank() ? stderr.strip() : stdout.strip();
            return "`" + String.join(" ", command) + "` exited with " + exitCode
                    + (said.isEmpty() ? "" : ": " + said);
        }
    }

    /** Runs the command to its end or the time limit; a command that cannot start or overruns throws. */
    public Result run(List<String> command, Duration timeout) throws BackendException {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("flotilla-cmd", ".out");
            err = Files.createTempFile("flotilla-cmd", ".err");
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            pb.environment().putAll(environment);
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new BackendException("microvm: cannot run `" + String.join(" ", command) + "`: "
                        + e.getMessage() + "; check microvm.microvm_command / systemctl_command in the node "
                        + "config and that the command is on PATH", e);
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new BackendException("microvm: `" + String.join(" ", command) + "` did not finish within "
                        + timeout.toSeconds() + " s and was killed; stderr so far: "
                        + Files.readString(err, StandardCharsets.UTF_8).strip()
                        + " (raise the timeout or look at the host's load)");
            }
            return new Result(List.copyOf(command), p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new BackendException("microvm: running `" + String.join(" ", command) + "` failed: "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException("microvm: interrupted while running `" + String.join(" ", command) + "`", e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a leftover temp file is harmless
            }
        }
    }
}

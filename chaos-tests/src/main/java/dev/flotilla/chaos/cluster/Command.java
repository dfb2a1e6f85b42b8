package dev.flotilla.chaos.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs one OS command from an argument list (never a shell string) with a timeout, capturing its output. */
public final class Command {

    /** What a finished command printed and returned. */
    public record Result(List<String> argv, int exitCode, String stdout, String stderr) {
        /** True when the command exited 0. */
        public boolean ok() {
            return exitCode == 0;
        }
    }

    private Command() {
    }

    /** Runs the command and returns whatever it exited with. */
    public static Result run(List<String> argv, long timeoutMillis) {
        ProcessBuilder pb = new ProcessBuilder(argv);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", argv) + ": " + e.getMessage()
                    + " (is the program installed? see scripts/install-deps.sh)", e);
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        try {
            if (!p.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", argv) + " did not finish within " + timeoutMillis
                        + " ms and was killed");
            }
            return new Result(argv, p.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", argv), e);
        }
    }

    /** Runs the command and fails, with its stderr in the message, unless it exits 0. */
    public static Result check(List<String> argv, long timeoutMillis) {
        Result r = run(argv, timeoutMillis);
        if (!r.ok()) {
            throw new IllegalStateException(String.join(" ", argv) + " exited " + r.exitCode() + ": "
                    + (r.stderr().isBlank() ? r.stdout().strip() : r.stderr().strip()));
        }
        return r;
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(output unreadable: " + e.getMessage() + ")";
        }
    }
}

package dev.flotilla.node.backend.process;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The files one process VM keeps under {@code <state_dir>/NAME/}: its command and environment, its
 * working directory, its log, and what became of its last run, so that an agent restarted from scratch
 * knows which process it started and how that run ended.
 */
final class VmDirectory {

    static final String LOG = "output.log";
    /** Begins the line flotilla writes into the log before each run. */
    static final String RUN_MARKER = "--- flotilla: starting ";

    private final Path dir;

    VmDirectory(Path dir) {
        this.dir = dir;
    }

    Path path() {
        return dir;
    }

    boolean exists() {
        return Files.isDirectory(dir);
    }

    Path work() {
        return dir.resolve("work");
    }

    Path log() {
        return dir.resolve(LOG);
    }

    /** The pid, start time and command line of the process started last; the start time tells a reused pid apart. */
    record PidRecord(long pid, long startMs, List<String> argv) {}

    void writeArgv(List<String> argv) throws IOException {
        writeAtomically("argv", String.join("\0", argv));
    }

    List<String> argv() throws IOException {
        return split(read("argv").orElse(""));
    }

    void writeEnv(List<String> assignments) throws IOException {
        writeAtomically("env", String.join("\0", assignments));
    }

    List<String> env() throws IOException {
        return split(read("env").orElse(""));
    }

    void writePid(PidRecord r) throws IOException {
        writeAtomically("pid", r.pid() + "\n" + r.startMs() + "\n" + String.join("\0", r.argv()));
    }

    Optional<PidRecord> pid() throws IOException {
        Optional<String> text = read("pid");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        String[] parts = text.get().split("\n", 3);
        if (parts.length < 2) {
            return Optional.empty();
        }
        try {
            return Optional.of(new PidRecord(Long.parseLong(parts[0].trim()), Long.parseLong(parts[1].trim()),
                    parts.length == 3 ? split(parts[2]) : List.of()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    void writeExit(int code) throws IOException {
        writeAtomically("exit", Integer.toString(code));
    }

    Optional<Integer> exit() throws IOException {
        return read("exit").map(s -> Integer.parseInt(s.trim()));
    }

    void writeFailure(String reason) throws IOException {
        writeAtomically("failed", reason);
    }

    Optional<String> failure() throws IOException {
        return read("failed");
    }

    void markStopped() throws IOException {
        writeAtomically("stopped", "");
    }

    boolean stopped() {
        return Files.exists(dir.resolve("stopped"));
    }

    /** Forgets the last run before a new one. */
    void clearRun() throws IOException {
        for (String f : List.of("pid", "exit", "failed", "stopped")) {
            Files.deleteIfExists(dir.resolve(f));
        }
    }

    void appendToLog(String line) throws IOException {
        Files.writeString(log(), line + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    /** The last {@code maxBytes} of the log, for error messages; whole lines where it can. */
    String logTail(int maxBytes) {
        Path log = log();
        if (!Files.exists(log)) {
            return "";
        }
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long len = f.length();
            long from = Math.max(0, len - maxBytes);
            byte[] buf = new byte[(int) (len - from)];
            f.seek(from);
            f.readFully(buf);
            String tail = new String(buf, StandardCharsets.UTF_8);
            int nl = tail.indexOf('\n');
            if (from > 0 && nl >= 0 && nl < tail.length() - 1) {
                tail = tail.substring(nl + 1);
            }
            // Only the last run's own output: what an earlier run or flotilla's marker said would mislead.
            int marker = tail.lastIndexOf(RUN_MARKER);
            if (marker >= 0) {
                int eol = tail.indexOf('\n', marker);
                tail = eol < 0 ? "" : tail.substring(eol + 1);
            }
            return tail.strip();
        } catch (IOException e) {
            return "(log " + log + " unreadable: " + e.getMessage() + ")";
        }
    }

    void deleteRecursively() throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private Optional<String> read(String name) throws IOException {
        Path p = dir.resolve(name);
        if (!Files.exists(p)) {
            return Optional.empty();
        }
        return Optional.of(Files.readString(p, StandardCharsets.UTF_8));
    }

    // A crash mid-write must not leave a half pid file that points at a stranger's process.
    private void writeAtomically(String name, String content) throws IOException {
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static List<String> split(String joined) {
        if (joined.isEmpty()) {
            return List.of();
        }
        return new ArrayList<>(Arrays.asList(joined.split("\0", -1)));
    }
}

package dev.flotilla.chaos.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One node daemon: a JVM started with {@code ip netns exec NS bin/flotilla node --config node.yaml} in
 * its own namespace, on its own data dir, with its output appended to node.log across restarts.
 */
final class NodeProcess {
    private final String id;
    private final Path dir;
    private final List<String> argv;
    private final Map<String, String> env;
    private Process process;

    NodeProcess(String id, Path dir, List<String> argv, Map<String, String> env) {
        this.id = id;
        this.dir = dir;
        this.argv = List.copyOf(argv);
        this.env = Map.copyOf(env);
    }

    String id() {
        return id;
    }

    Path dir() {
        return dir;
    }

    Path log() {
        return dir.resolve("node.log");
    }

    synchronized void start() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("node " + id + " is already running (pid " + process.pid() + ")");
        }
        try {
            Files.writeString(log(), String.format("%n==== %s starting: %s%n", java.time.Instant.now(),
                    String.join(" ", argv)), StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()));
            pb.environment().putAll(env);
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start node " + id + " with " + String.join(" ", argv) + ": "
                    + e.getMessage(), e);
        }
    }

    /** True while the launched process has not exited. */
    synchronized boolean alive() {
        return process != null && process.isAlive();
    }

    /** The exit code once it has exited, else null. */
    synchronized Integer exitCode() {
        return process == null || process.isAlive() ? null : process.exitValue();
    }

    /** The last lines of node.log, to put the node's own words into error messages. */
    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log(), StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    List<String> argv() {
        return new ArrayList<>(argv);
    }
}

package dev.flotilla.node.backend.process;

import dev.flotilla.node.backend.Backend;
import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.proto.EnvVar;
import dev.flotilla.proto.ObservedState;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * Runs a VM's {@code spec.cmd} as a plain host process, for development hosts and workloads that need
 * no isolation. Each VM lives in {@code <state_dir>/NAME/}: {@code work/} is its working directory,
 * {@code output.log} collects its stdout and stderr, and a pid file (pid, start time, command line)
 * lets an agent that restarted find and adopt the processes it started without mistaking a reused pid.
 */
public final class ProcessBackend implements Backend {

    /** VM names become directory names: no separators, no dot-names, nothing a shell or path could misread. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private static final int LOG_TAIL_BYTES = 600;
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private final Path stateDir;
    private final Duration stopGrace;
    // Children this agent started: only for them does the JDK give us the exit code.
    private final Map<String, Process> children = new ConcurrentHashMap<>();

    /**
     * @param stateDir  where the per-VM directories live, e.g. {@code <data_dir>/process}
     * @param stopGrace how long stop waits after SIGTERM before it sends SIGKILL ({@code process.stop_grace_ms})
     */
    public ProcessBackend(Path stateDir, Duration stopGrace) {
        this.stateDir = stateDir;
        this.stopGrace = stopGrace;
    }

    @Override
    public String name() {
        return "process";
    }

    /** A process VM shares the host's network: its guest ports are the host's own, on loopback. */
    @Override
    public java.util.Optional<String> guestAddress(VmInstance vm) {
        return java.util.Optional.of("127.0.0.1");
    }

    @Override
    public synchronized void create(VmInstance vm) throws BackendException {
        List<String> argv = vm.spec().getCmdList();
        if (argv.isEmpty() || argv.get(0).isBlank()) {
            throw new BackendException("process VM '" + vm.name() + "': spec.cmd is empty; the process backend runs spec.cmd"
                    + " as a host command, give it one, e.g. cmd: [\"/usr/bin/python3\", \"-m\", \"http.server\", \"8000\"]");
        }
        VmDirectory d = dir(vm.name());
        try {
            Files.createDirectories(d.work());
            d.writeArgv(argv);
            List<String> env = new ArrayList<>();
            for (EnvVar e : vm.spec().getEnvList()) {
                env.add(e.getName() + "=" + e.getValue());
            }
            d.writeEnv(env);
        } catch (IOException e) {
            throw new BackendException("process VM '" + vm.name() + "': cannot write its state directory " + d.path()
                    + ": " + e + ". Check that process.state_dir is writable by the node's user", e);
        }
    }

    @Override
    public synchronized void start(VmInstance vm) throws BackendException {
        VmDirectory d = dir(vm.name());
        if (live(vm.name(), d).isPresent()) {
            return;
        }
        create(vm);
        List<String> argv;
        ProcessBuilder pb;
        try {
            d.clearRun();
            argv = d.argv();
            pb = new ProcessBuilder(argv)
                    .directory(d.work().toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(d.log().toFile()));
            Map<String, String> env = pb.environment();
            // The agent's own environment (credentials, Java options) is not the VM's business:
            // start from a small, predictable one and add the spec's variables on top.
            String path = env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
            env.clear();
            env.put("PATH", path);
            env.put("HOME", d.work().toString());
            env.put("FLOTILLA_VM_NAME", vm.name());
            if (vm.ip() != null && !vm.ip().isEmpty()) {
                env.put("FLOTILLA_VM_IP", vm.ip());
            }
            for (String assignment : d.env()) {
                int eq = assignment.indexOf('=');
                env.put(assignment.substring(0, eq), assignment.substring(eq + 1));
            }
            d.appendToLog(VmDirectory.RUN_MARKER + argv + " at " + Instant.now() + " (epoch " + vm.epoch() + ") ---");
        } catch (IOException e) {
            throw new BackendException("process VM '" + vm.name() + "': cannot prepare " + d.path() + ": " + e
                    + ". Check that process.state_dir is writable by the node's user", e);
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            String reason = "cannot run " + argv + ": " + e.getMessage()
                    + ". spec.cmd[0] must be an executable on node's PATH or an absolute path, and the node's user must be allowed to run it";
            try {
                d.writeFailure(reason);
            } catch (IOException ignored) {
                // The exception below carries the reason anyway.
            }
            throw new BackendException("process VM '" + vm.name() + "': " + reason, e);
        }
        ProcessHandle h = p.toHandle();
        try {
            d.writePid(new VmDirectory.PidRecord(h.pid(), startMs(h), argv));
        } catch (IOException e) {
            p.destroyForcibly();
            throw new BackendException("process VM '" + vm.name() + "': started pid " + h.pid()
                    + " but cannot record it in " + d.path() + " (" + e + "), so it was killed again; check the disk", e);
        }
        children.put(vm.name(), p);
        p.onExit().thenAccept(done -> recordExit(vm.name(), d, done));
    }

    // Synchronized with delete and start, so it never writes into a directory being removed, nor
    // records an old run's end over a newer run.
    private synchronized void recordExit(String name, VmDirectory d, Process done) {
        try {
            if (children.get(name) == done && d.exists()) {
                d.writeExit(done.exitValue());
            }
        } catch (IOException ignored) {
            // status() still asks the Process object while this agent holds it.
        }
    }

    @Override
    public void stop(VmInstance vm) throws BackendException {
        ProcessHandle h;
        VmDirectory d = dir(vm.name());
        synchronized (this) {
            Optional<ProcessHandle> live = live(vm.name(), d);
            if (live.isEmpty()) {
                return;
            }
            h = live.get();
            try {
                d.markStopped();
            } catch (IOException e) {
                throw new BackendException("process VM '" + vm.name() + "': cannot write " + d.path() + ": " + e, e);
            }
        }
        // Outside the lock: waiting out the grace period must not hold up status() of other VMs.
        List<ProcessHandle> descendants = h.descendants().toList();
        h.destroy();
        if (!awaitExit(h, stopGrace)) {
            h.destroyForcibly();
        }
        // Like systemd's KillMode=mixed: the main process got SIGTERM, whatever it left behind gets SIGKILL.
        descendants.forEach(ProcessHandle::destroyForcibly);
        if (!awaitExit(h, KILL_WAIT)) {
            throw new BackendException("process VM '" + vm.name() + "': pid " + h.pid() + " survived SIGTERM and, "
                    + KILL_WAIT.toSeconds() + " s after, SIGKILL (is it stuck in the kernel, state D?); check `ps -o stat,wchan -p "
                    + h.pid() + "`");
        }
    }

    private static boolean awaitExit(ProcessHandle h, Duration within) {
        try {
            h.onExit().get(within.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return !h.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !h.isAlive();
        } catch (ExecutionException e) {
            return !h.isAlive();
        }
    }

    @Override
    public void delete(VmInstance vm) throws BackendException {
        stop(vm);
        synchronized (this) {
            VmDirectory d = dir(vm.name());
            children.remove(vm.name());
            try {
                d.deleteRecursively();
            } catch (IOException e) {
                throw new BackendException("process VM '" + vm.name() + "': stopped, but cannot remove " + d.path()
                        + ": " + e + ". Remove it by hand", e);
            }
        }
    }

    @Override
    public synchronized VmStatus status(VmInstance vm) throws BackendException {
        VmDirectory d = dir(vm.name());
        if (!d.exists()) {
            return VmStatus.absent();
        }
        try {
            Optional<String> failure = d.failure();
            if (failure.isPresent()) {
                return VmStatus.of(ObservedState.FAILED, failure.get());
            }
            Optional<VmDirectory.PidRecord> pid = d.pid();
            if (pid.isEmpty()) {
                return VmStatus.of(ObservedState.STOPPED, "created, not started");
            }
            if (live(vm.name(), d).isPresent()) {
                return VmStatus.of(ObservedState.RUNNING, "pid " + pid.get().pid());
            }
            Optional<Integer> code = exitCode(vm.name(), d);
            if (d.stopped()) {
                return VmStatus.of(ObservedState.STOPPED, "stopped" + code.map(c -> " (exit code " + c + ")").orElse(""));
            }
            if (code.isEmpty()) {
                return VmStatus.exited(-1, "pid " + pid.get().pid() + " ended while this agent was not watching it, so its exit code is unknown; "
                        + "see " + d.log() + tail(d));
            }
            return VmStatus.exited(code.get(), "exited with code " + code.get() + describeSignal(code.get()) + tail(d));
        } catch (IOException e) {
            throw new BackendException("process VM '" + vm.name() + "': cannot read its state in " + d.path() + ": " + e, e);
        }
    }

    @Override
    public synchronized List<String> list() throws BackendException {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(stateDir)) {
            return names;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(stateDir, Files::isDirectory)) {
            for (Path p : entries) {
                String n = p.getFileName().toString();
                if (NAME.matcher(n).matches()) {
                    names.add(n);
                }
            }
        } catch (IOException e) {
            throw new BackendException("process backend: cannot list " + stateDir + ": " + e, e);
        }
        names.sort(null);
        return names;
    }

    /** The VM's process when it is alive and is really the one this backend started (not a reused pid). */
    private Optional<ProcessHandle> live(String name, VmDirectory d) throws BackendException {
        Process child = children.get(name);
        if (child != null) {
            return child.isAlive() ? Optional.of(child.toHandle()) : Optional.empty();
        }
        Optional<VmDirectory.PidRecord> rec;
        try {
            rec = d.pid();
        } catch (IOException e) {
            throw new BackendException("process VM '" + name + "': cannot read its pid file in " + d.path() + ": " + e, e);
        }
        if (rec.isEmpty()) {
            return Optional.empty();
        }
        return ProcessHandle.of(rec.get().pid()).filter(ProcessHandle::isAlive).filter(h -> sameProcess(h, rec.get()));
    }

    /**
     * Whether {@code h} is the process the pid file describes. The start time settles it (a reused pid
     * starts later); where the kernel does not tell the start time, the command line has to do.
     */
    static boolean sameProcess(ProcessHandle h, VmDirectory.PidRecord rec) {
        long start = startMs(h);
        if (start > 0 && rec.startMs() > 0) {
            return start == rec.startMs();
        }
        return cmdline(h.pid()).map(rec.argv()::equals).orElse(false);
    }

    private static long startMs(ProcessHandle h) {
        return h.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    private static Optional<List<String>> cmdline(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            String s = new String(raw, StandardCharsets.UTF_8);
            if (s.endsWith("\0")) {
                s = s.substring(0, s.length() - 1);
            }
            return Optional.of(List.of(s.split("\0", -1)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private Optional<Integer> exitCode(String name, VmDirectory d) throws IOException {
        Process child = children.get(name);
        if (child != null && !child.isAlive()) {
            return Optional.of(child.exitValue());
        }
        return d.exit();
    }

    private static String describeSignal(int code) {
        // The JDK reports a process killed by signal N as exit code 128 + N.
        if (code > 128 && code < 160) {
            return " (killed by signal " + (code - 128) + ")";
        }
        return "";
    }

    private static String tail(VmDirectory d) {
        String t = d.logTail(LOG_TAIL_BYTES);
        return t.isEmpty() ? "" : "; last output: " + t;
    }

    private VmDirectory dir(String name) throws BackendException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new BackendException("process backend: VM name '" + name + "' is not allowed; use 1-128 of A-Z a-z 0-9 . _ - starting with a letter or digit");
        }
        return new VmDirectory(stateDir.resolve(name));
    }
}

package dev.flotilla.node.backend.process;

import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.proto.EnvVar;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.VmSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The process backend against real host processes (/bin/sh, sleep, echo). */
class ProcessBackendTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path state;

    private ProcessBackend backend;
    private final List<VmInstance> started = new ArrayList<>();
    private final List<Process> strays = new ArrayList<>();

    @BeforeEach
    void setUp() {
        backend = new ProcessBackend(state, Duration.ofSeconds(2));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (VmInstance vm : started) {
            backend.delete(vm);
        }
        strays.forEach(Process::destroyForcibly);
    }

    static VmInstance vm(String name, String lifecycle, String... cmd) {
        return new VmInstance(name, VmSpec.newBuilder().setRuntime("process").setLifecycle(lifecycle)
                .addAllCmd(List.of(cmd)).build(), "10.0.0.7", "", 1);
    }

    private VmInstance started(VmInstance vm) throws BackendException {
        started.add(vm);
        backend.create(vm);
        backend.start(vm);
        return vm;
    }

    private VmStatus status(VmInstance vm) {
        try {
            return backend.status(vm);
        } catch (BackendException e) {
            throw new AssertionError(e);
        }
    }

    private String log(String name) {
        try {
            Path p = state.resolve(name).resolve(VmDirectory.LOG);
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The lines the VM's process wrote (the log also holds flotilla's own "--- flotilla:" markers, left out here). */
    private List<String> output(String name) {
        return log(name).lines().filter(l -> !l.startsWith(VmDirectory.RUN_MARKER)).toList();
    }

    private void awaitState(VmInstance vm, ObservedState want) {
        Eventually.await(vm.name() + " to be " + want, WAIT, () -> status(vm).state() == want, () -> status(vm).toString());
    }

    @Test
    void runsTheCommandWithTheSpecsEnvironmentInItsOwnDirectoryAndLogsBothStreams() throws Exception {
        VmInstance vm = new VmInstance("web", VmSpec.newBuilder().setRuntime("process").setLifecycle("service")
                .addAllCmd(List.of("/bin/sh", "-c", "echo hello $GREETING from $FLOTILLA_VM_IP; pwd; echo oops >&2; exec sleep 30"))
                .addEnv(EnvVar.newBuilder().setName("GREETING").setValue("world")).build(), "10.0.0.7", "", 1);
        started(vm);
        Eventually.await("the log to show the process's output", WAIT, () -> output("web").contains("oops"), () -> log("web"));
        assertEquals(List.of("hello world from 10.0.0.7", state.resolve("web").resolve("work").toRealPath().toString(), "oops"),
                output("web"));
        VmStatus s = status(vm);
        assertEquals(ObservedState.RUNNING, s.state(), s.toString());
        assertEquals(List.of("web"), backend.list());
    }

    @Test
    void passesArgumentsAsAListNeverThroughAShell() throws Exception {
        VmInstance vm = started(vm("echo", "job", "/bin/echo", "$HOME; touch pwned", "*"));
        awaitState(vm, ObservedState.EXITED);
        assertEquals(List.of("$HOME; touch pwned *"), output("echo"));
        assertFalse(Files.exists(state.resolve("echo").resolve("work").resolve("pwned")));
    }

    @Test
    void aJobReportsItsExitCodeAndItsLastOutput() throws Exception {
        VmInstance vm = started(vm("job", "job", "/bin/sh", "-c", "echo computing; echo disk full >&2; exit 3"));
        awaitState(vm, ObservedState.EXITED);
        VmStatus s = status(vm);
        assertEquals(3, s.exitCode());
        assertEquals("exited with code 3; last output: computing\ndisk full", s.reason());
    }

    @Test
    void aCommandThatCannotRunFailsWithTheReason() throws Exception {
        VmInstance missing = vm("missing", "service", "/nonexistent/bin/server", "--port", "80");
        started.add(missing);
        backend.create(missing);
        BackendException e = assertThrows(BackendException.class, () -> backend.start(missing));
        assertTrue(e.getMessage().contains("/nonexistent/bin/server") && e.getMessage().contains("No such file"), e.getMessage());
        VmStatus s = status(missing);
        assertEquals(ObservedState.FAILED, s.state());
        assertTrue(s.reason().contains("No such file") && s.reason().contains("spec.cmd[0]"), s.reason());

        // A command the shell cannot find: the shell's stderr is in the reason.
        VmInstance typo = started(vm("typo", "job", "/bin/sh", "-c", "no-such-command-xyz"));
        awaitState(typo, ObservedState.EXITED);
        assertEquals(127, status(typo).exitCode());
        assertTrue(status(typo).reason().contains("no-such-command-xyz: not found"), status(typo).reason());
    }

    @Test
    void stopSendsSigtermAndTheProcessEndsCleanly() throws Exception {
        VmInstance vm = started(vm("polite", "service", "/bin/sh", "-c", "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.05; done"));
        Eventually.await("the process to be ready", WAIT, () -> output("polite").contains("ready"));
        backend.stop(vm);
        VmStatus s = status(vm);
        assertEquals(ObservedState.STOPPED, s.state(), s.toString());
        assertTrue(s.reason().contains("exit code 0"), s.reason());
        assertTrue(output("polite").contains("bye"), "the process should have seen SIGTERM: " + log("polite"));
        backend.stop(vm); // stopping a stopped VM is a no-op
    }

    @Test
    void stopEscalatesToSigkillAfterTheGracePeriodAndKillsWhatTheProcessLeftBehind() throws Exception {
        backend = new ProcessBackend(state, Duration.ofMillis(300));
        VmInstance vm = started(vm("stubborn", "service", "/bin/sh", "-c", "trap '' TERM; sleep 60 & echo ready; while :; do sleep 0.05; done"));
        // "ready" comes after the fork of the background sleep, so the child exists once it is seen.
        Eventually.await("the process to be ready", WAIT, () -> output("stubborn").contains("ready"));
        long pid = Long.parseLong(Files.readString(state.resolve("stubborn").resolve("pid")).split("\n")[0]);
        List<ProcessHandle> family = new ArrayList<>(ProcessHandle.of(pid).orElseThrow().descendants().toList());
        assertFalse(family.isEmpty(), "the shell should have a sleeping child");
        backend.stop(vm);
        VmStatus s = status(vm);
        assertEquals(ObservedState.STOPPED, s.state());
        assertTrue(s.reason().contains("exit code 137"), "SIGKILL is exit code 128+9: " + s.reason());
        family.add(ProcessHandle.of(pid).orElse(null));
        for (ProcessHandle h : family) {
            if (h != null) {
                Eventually.await("pid " + h.pid() + " to be gone", WAIT, () -> !h.isAlive());
            }
        }
    }

    @Test
    void aRestartedAgentAdoptsTheProcessesItStarted() throws Exception {
        VmInstance vm = started(vm("adoptee", "service", "/bin/sleep", "60"));
        awaitState(vm, ObservedState.RUNNING);
        // A new backend over the same state dir is what the agent has after its own restart.
        ProcessBackend afterRestart = new ProcessBackend(state, Duration.ofSeconds(2));
        assertEquals(List.of("adoptee"), afterRestart.list());
        assertEquals(ObservedState.RUNNING, afterRestart.status(vm).state());
        afterRestart.stop(vm);
        assertEquals(ObservedState.STOPPED, afterRestart.status(vm).state());
        assertEquals(ObservedState.STOPPED, status(vm).state());
    }

    @Test
    void aReusedPidIsNotMistakenForTheVm() throws Exception {
        // Another process now holds the pid the file names, but it started at another time.
        Process stranger = new ProcessBuilder("/bin/sleep", "60").start();
        strays.add(stranger);
        VmInstance vm = vm("ghost", "service", "/bin/sleep", "60");
        started.add(vm);
        backend.create(vm);
        VmDirectory d = new VmDirectory(state.resolve("ghost"));
        long strangerStart = stranger.toHandle().info().startInstant().map(Instant::toEpochMilli).orElseThrow();
        d.writePid(new VmDirectory.PidRecord(stranger.pid(), strangerStart - 60_000, List.of("/bin/sleep", "60")));

        VmStatus s = status(vm);
        assertNotEquals(ObservedState.RUNNING, s.state(), s.toString());
        assertTrue(s.reason().contains("exit code is unknown"), s.reason());
        backend.stop(vm);
        assertTrue(stranger.isAlive(), "stop must not signal a process that merely reuses the VM's pid");
        // The same pid with the right start time is the VM's own process.
        d.writePid(new VmDirectory.PidRecord(stranger.pid(), strangerStart, List.of("/bin/sleep", "60")));
        assertEquals(ObservedState.RUNNING, new ProcessBackend(state, Duration.ofSeconds(2)).status(vm).state());
    }

    @Test
    void startingARunningVmIsANoOpAndARestartAppendsToTheLog() throws Exception {
        VmInstance vm = started(vm("twice", "service", "/bin/sh", "-c", "echo run; exec sleep 60"));
        Eventually.await("first run", WAIT, () -> output("twice").contains("run"));
        String pid = Files.readString(state.resolve("twice").resolve("pid"));
        backend.start(vm);
        assertEquals(pid, Files.readString(state.resolve("twice").resolve("pid")), "a second start must not start a second process");
        backend.stop(vm);
        backend.start(vm);
        Eventually.await("second run", WAIT, () -> output("twice").equals(List.of("run", "run")), () -> log("twice"));
    }

    @Test
    void deleteStopsAndRemovesEverything() throws Exception {
        VmInstance vm = started(vm("gone", "service", "/bin/sleep", "60"));
        long pid = Long.parseLong(Files.readString(state.resolve("gone").resolve("pid")).split("\n")[0]);
        backend.delete(vm);
        assertFalse(Files.exists(state.resolve("gone")));
        assertFalse(status(vm).exists());
        assertEquals(List.of(), backend.list());
        Eventually.await("pid " + pid + " to be gone", WAIT, () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
        backend.delete(vm); // deleting an unknown VM is a no-op
    }

    @Test
    void rejectsNamesThatCouldEscapeTheStateDirAndEmptyCommands() {
        BackendException bad = assertThrows(BackendException.class, () -> backend.create(vm("../etc", "job", "/bin/true")));
        assertTrue(bad.getMessage().contains("'../etc' is not allowed"), bad.getMessage());
        BackendException empty = assertThrows(BackendException.class, () -> backend.create(vm("empty", "job")));
        assertTrue(empty.getMessage().contains("spec.cmd is empty"), empty.getMessage());
    }
}

package dev.flotilla.node.backend.process;

import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.proto.ObservedState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.*;

/** The supervisor restarting real processes of the process backend by their lifecycle. */
class SupervisorTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path state;

    private ProcessBackend backend;
    private Supervisor supervisor;
    private final List<Supervisor.Event> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() {
        backend = new ProcessBackend(state, Duration.ofSeconds(2));
        // Small delays keep the test short; the doubling and the cap are the ones the agent uses.
        supervisor = new Supervisor(backend, new RestartPolicy(50, 400, 60_000), Duration.ofMillis(20),
                System::currentTimeMillis, events::add);
    }

    @AfterEach
    void tearDown() throws Exception {
        supervisor.close();
        for (String name : backend.list()) {
            backend.delete(ProcessBackendTest.vm(name, "job", "/bin/true"));
        }
    }

    private <T extends Supervisor.Event> List<T> eventsOf(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private long runs(String name) {
        try {
            Path p = state.resolve(name).resolve("work").resolve("runs");
            return Files.exists(p) ? Files.readAllLines(p).size() : 0;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aCrashingServiceIsRestartedWithGrowingDelays() {
        VmInstance vm = ProcessBackendTest.vm("crasher", "service", "/bin/sh", "-c", "echo run >> runs; exit 1");
        supervisor.supervise(vm);
        Eventually.await("five restarts to be scheduled", WAIT,
                () -> eventsOf(Supervisor.Event.RestartScheduled.class).size() >= 5, events::toString);
        supervisor.release("crasher");

        List<Long> delays = eventsOf(Supervisor.Event.RestartScheduled.class).stream()
                .map(Supervisor.Event.RestartScheduled::delayMs).limit(5).toList();
        assertEquals(List.of(50L, 100L, 200L, 400L, 400L), delays);
        List<Supervisor.Event.Ended> ends = eventsOf(Supervisor.Event.Ended.class);
        assertTrue(ends.stream().allMatch(e -> e.status().state() == ObservedState.EXITED && e.status().exitCode() == 1), ends.toString());
        assertEquals(List.of(1, 2, 3, 4, 5), eventsOf(Supervisor.Event.Started.class).stream()
                .map(Supervisor.Event.Started::attempt).limit(5).toList());
        assertTrue(runs("crasher") >= 5, "the command really ran each time: " + runs("crasher"));
        assertTrue(eventsOf(Supervisor.Event.Finished.class).isEmpty(), "a service is never finished: " + events);
    }

    @Test
    void aJobRunsOnceAndReportsItsExitCode() {
        VmInstance vm = ProcessBackendTest.vm("batch", "job", "/bin/sh", "-c", "echo run >> runs; exit 7");
        supervisor.supervise(vm);
        Eventually.await("the job to finish", WAIT, () -> !eventsOf(Supervisor.Event.Finished.class).isEmpty(), events::toString);
        Supervisor.Event.Finished done = eventsOf(Supervisor.Event.Finished.class).get(0);
        assertEquals(ObservedState.EXITED, done.status().state());
        assertEquals(7, done.status().exitCode());
        assertEquals(List.of(), eventsOf(Supervisor.Event.RestartScheduled.class));
        assertEquals(1, runs("batch"));
    }

    @Test
    void aServiceThatCannotStartIsRetriedWithBackoffAndTheReasonIsReported() {
        VmInstance vm = ProcessBackendTest.vm("broken", "service", "/nonexistent/daemon");
        supervisor.supervise(vm);
        Eventually.await("two restarts to be scheduled", WAIT,
                () -> eventsOf(Supervisor.Event.RestartScheduled.class).size() >= 2, events::toString);
        supervisor.release("broken");
        Supervisor.Event.Ended first = eventsOf(Supervisor.Event.Ended.class).get(0);
        assertEquals(ObservedState.FAILED, first.status().state());
        assertTrue(first.status().reason().contains("/nonexistent/daemon"), first.status().reason());
        assertEquals(List.of(50L, 100L), eventsOf(Supervisor.Event.RestartScheduled.class).stream()
                .map(Supervisor.Event.RestartScheduled::delayMs).limit(2).toList());
    }

    @Test
    void anAdoptedServiceIsRestartedWhenItDiesButNotStartedTwice() throws Exception {
        VmInstance vm = ProcessBackendTest.vm("adopted", "service", "/bin/sh", "-c", "echo run >> runs; exec sleep 60");
        backend.create(vm);
        backend.start(vm);
        Eventually.await("the first run", WAIT, () -> runs("adopted") == 1);
        supervisor.adopt(vm);
        long pid = Long.parseLong(Files.readString(state.resolve("adopted").resolve("pid")).split("\n")[0]);
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        // The process may write its line before the supervisor reports the start: wait for both.
        Eventually.await("the service to run again", WAIT,
                () -> runs("adopted") == 2 && !eventsOf(Supervisor.Event.Started.class).isEmpty(), events::toString);
        // Adopting did not start it; the one start is the restart after it died.
        assertEquals(List.of(1), eventsOf(Supervisor.Event.Started.class).stream().map(Supervisor.Event.Started::attempt).toList());
        supervisor.release("adopted");
    }
}

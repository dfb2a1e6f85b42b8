package dev.flotilla.node.sim;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.flotilla.node.sim.SimTestSupport.config;
import static dev.flotilla.node.sim.SimTestSupport.logs;
import static dev.flotilla.node.sim.SimTestSupport.runtime;
import static dev.flotilla.node.sim.SimTestSupport.status;
import static dev.flotilla.node.sim.SimTestSupport.vm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HandlerSemanticsTest {

    @Test
    void onStartThenOnTickEveryTickUntilExit() {
        SimRuntime rt = runtime(config(), "10.0.0.1");
        rt.addVm(vm("a", "10.0.0.1", """
                local P = {}
                function P.on_start(ctx) ctx.n = 0; log("start", os.time()) end
                function P.on_tick(ctx)
                  ctx.n = ctx.n + 1
                  log("tick", ctx.n, os.time())
                  if ctx.n == 3 then return exit(7) end
                end
                return P
                """));
        rt.step(6);
        List<String> lines = logs(rt, "a");
        assertEquals(List.of("start\t1", "tick\t1\t1", "tick\t2\t2", "tick\t3\t3",
                "[sim] pid 1 (a.lua) exited with code 7"), lines);
        SimVmStatus s = status(rt, "a");
        assertEquals("exited", s.processes().get(0).state());
        assertEquals(7, s.processes().get(0).exitCode());
        assertEquals(3, s.ticksRun(), "ticks in which a handler ran");
    }

    @Test
    void sleepWakesAfterExactlyNTicks() {
        SimRuntime rt = runtime(config(), "10.0.0.1");
        rt.addVm(vm("a", "10.0.0.1", """
                function on_tick(ctx)
                  log(os.time())
                  return sleep(5)
                end
                """));
        rt.step(16);
        assertEquals(List.of("1", "6", "11", "16"), logs(rt, "a"));
        assertEquals("sleeping", status(rt, "a").processes().get(0).state());
    }

    @Test
    void waitPacketMeansNoTicksAndAnIdleVmIsNotRun() {
        SimRuntime rt = runtime(config(), "10.0.0.1");
        rt.addVm(vm("a", "10.0.0.1", """
                return {
                  on_start = function(ctx) return wait_packet() end,
                  on_tick = function(ctx) log("tick") end,
                }
                """));
        rt.step(20);
        SimVmStatus s = status(rt, "a");
        assertEquals("waiting", s.processes().get(0).state());
        assertEquals(1, s.handlerCalls(), "only on_start ran");
        assertEquals(1, s.ticksRun());
        assertEquals(0, rt.stats().runnable(), "an idle VM is not in the run queue");
    }

    @Test
    void timersFireOnTimerWithTheirId() {
        SimRuntime rt = runtime(config(), "10.0.0.1");
        rt.addVm(vm("a", "10.0.0.1", """
                return {
                  on_start = function(ctx)
                    os.timer(3, "three"); os.timer(1, "one"); os.timer(2000, "late")
                    return wait_packet()
                  end,
                  on_timer = function(ctx, id) log(id, os.time()) end,
                }
                """));
        rt.step(10);
        assertEquals(List.of("one\t2", "three\t4"), logs(rt, "a"));
        rt.step(2000);
        assertEquals(List.of("one\t2", "three\t4", "late\t2001"), logs(rt, "a"));
    }

    @Test
    void aLuaErrorIsKeptWithItsTracebackAndTouchesNoOtherVm() {
        SimRuntime rt = runtime(config(), "10.0.0.1", "10.0.0.2");
        rt.addVm(vm("bad", "10.0.0.1", """
                local function inner() error("boom") end
                function on_tick(ctx) inner() end
                """));
        rt.addVm(vm("good", "10.0.0.2", """
                function on_tick(ctx) ctx.n = (ctx.n or 0) + 1 end
                """));
        rt.step(10);
        SimVmStatus bad = status(rt, "bad");
        assertEquals("failed", bad.processes().get(0).state());
        String err = bad.processes().get(0).lastError();
        assertTrue(err.contains("bad.lua:1") && err.contains("boom"), "error names file, line, message: " + err);
        assertTrue(err.contains("stack traceback:") && err.contains("bad.lua:2"),
                "traceback shows the calling handler: " + err);
        assertEquals("running", bad.state(), "a Lua error fails the process, not the VM");
        SimVmStatus good = status(rt, "good");
        assertEquals(10, good.ticksRun());
    }

    @Test
    void spawnStartsAnotherProgramWithItsOwnPid() {
        SimRuntime rt = runtime(config(), "10.0.0.1");
        SimVmSpec spec = vm("a", "10.0.0.1", """
                function on_start(ctx) log("init", os.pid(), os.hostname(), os.ip()); log("child", os.spawn("child")) ; return wait_packet() end
                """).withPrograms(List.of(
                new SimProgram("init", """
                        function on_start(ctx) log("init", os.pid(), os.hostname(), os.ip()); log("child", os.spawn("child")); return wait_packet() end
                        """),
                new SimProgram("child", """
                        return { on_start = function(ctx) log("hello from", os.pid()); os.exit(3) end }
                        """)));
        rt.addVm(spec);
        rt.step(3);
        assertEquals(List.of("init\t1\ta\t10.0.0.1", "child\t2", "hello from\t2",
                "[sim] pid 2 (child) exited with code 3"), logs(rt, "a"));
        SimVmStatus s = status(rt, "a");
        assertEquals(2, s.processes().size());
        assertEquals("waiting", s.processes().get(0).state());
        assertEquals("exited", s.processes().get(1).state());
    }

    @Test
    void processSlotsAreReusedSoSpawningForeverDoesNotGrowTheVm() {
        SimRuntime rt = runtime(config(), "10.0.0.1");
        rt.addVm(vm("a", "10.0.0.1", "").withPrograms(List.of(
                new SimProgram("init", "function on_tick() os.spawn('child') end"),
                new SimProgram("child", "function on_start() return exit(0) end"))));
        rt.step(300);
        SimVmStatus s = status(rt, "a");
        assertTrue(s.processes().size() <= 72, "kept process slots: " + s.processes().size());
        assertEquals("running", s.processes().get(0).state(), "init keeps running");
        assertTrue(s.processes().stream().anyMatch(p -> p.pid() > 250), "new children still get new pids");
    }

    @Test
    void aStatusQueryBeforeTheFirstTickDoesNotLoseTheVm() {
        SimRuntime rt = runtime(config(), "10.0.0.1");
        rt.addVm(vm("a", "10.0.0.1", "function on_start() log('started') return wait_packet() end"));
        assertEquals("starting", status(rt, "a").processes().get(0).state());
        rt.step(1);
        assertEquals(List.of("started"), logs(rt, "a"));
    }

    @Test
    void thePacedLoopTicksOnItsOwnAndStops() {
        SimRuntime rt = runtime(config(), "10.0.0.1");
        rt.addVm(vm("a", "10.0.0.1", "function on_tick(ctx) ctx.n = (ctx.n or 0) + 1 end"));
        rt.start();
        try {
            SimTestSupport.await("30 ticks run", 20_000, () -> rt.tick() >= 30);
            SimTestSupport.await("the VM has ticked 20 times", 20_000, () -> status(rt, "a").ticksRun() >= 20);
        } finally {
            rt.close();
        }
        long stoppedAt = rt.tick();
        SimStats st = rt.stats();
        assertTrue(st.pacedTicks() >= 30 && st.handlerCalls() >= 20, st.toString());
        rt.step(2); // a closed runtime can be stepped again
        assertEquals(stoppedAt + 2, rt.tick());
    }

    @Test
    void aProgramThatDoesNotCompileIsRefusedWithItsName() {
        SimRuntime rt = runtime(config(), "10.0.0.1");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> rt.addVm(vm("a", "10.0.0.1", "function on_tick( end")));
        assertTrue(e.getMessage().contains("a.lua") && e.getMessage().contains("does not compile"), e.getMessage());
    }
}

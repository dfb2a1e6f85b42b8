package dev.flotilla.node.sim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static dev.flotilla.node.sim.SimTestSupport.config;
import static dev.flotilla.node.sim.SimTestSupport.logs;
import static dev.flotilla.node.sim.SimTestSupport.runtime;
import static dev.flotilla.node.sim.SimTestSupport.status;
import static dev.flotilla.node.sim.SimTestSupport.vm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every escape and every exhaustion we know of: the offender stops with a reason, the others go on. */
class SandboxTest {
    private static final String GOOD = """
            function on_tick(ctx)
              ctx.n = (ctx.n or 0) + 1
              log(string.rep("ab", 2), #table.concat({"x", "y"}), ("q"):upper(), math.max(1, 2), ctx.n)
            end
            """;

    /** Runs {@code body} as the bad VM's on_tick beside a good VM for 5 ticks. */
    private static SimRuntime runBesideGood(String body) {
        SimRuntime rt = runtime(config().withInstructionBudget(50_000), "10.0.0.1", "10.0.0.2");
        rt.addVm(vm("bad", "10.0.0.1", "function on_tick(ctx)\n" + body + "\nend"));
        rt.addVm(vm("good", "10.0.0.2", GOOD));
        rt.step(5);
        SimVmStatus good = status(rt, "good");
        assertEquals("running", good.state());
        assertEquals(5, good.ticksRun(), "the good VM ticked every tick");
        assertEquals("abab\t2\tQ\t2\t5", logs(rt, "good").get(4), "shared libraries still work for others");
        return rt;
    }

    @ParameterizedTest
    @ValueSource(strings = {"io", "luajava", "debug", "collectgarbage", "dofile", "loadfile", "require",
            "coroutine", "package", "_G"})
    void hostFacilitiesAreAbsent(String name) {
        SimRuntime rt = runBesideGood("log(type(" + name + ")); return exit(0)");
        assertEquals("nil", logs(rt, "bad").get(0), name + " must not exist in the sandbox");
    }

    @ParameterizedTest
    @ValueSource(strings = {"os.execute", "os.getenv", "os.remove", "os.rename", "os.clock", "os.date",
            "os.tmpname", "string.dump"})
    void hostFunctionsAreAbsent(String name) {
        SimRuntime rt = runBesideGood("log(type(" + name + ")); return exit(0)");
        assertEquals("nil", logs(rt, "bad").get(0), name + " must not exist in the sandbox");
    }

    @Test
    void loadRefusesBytecodeButRunsTextInTheVmsOwnEnvironment() {
        SimRuntime rt = runBesideGood("""
                local f, err = load("\\27LuaR\\0\\1\\4")
                log(f, err)
                local g = load("x = 41; return x + 1")
                log(g(), x)
                return exit(0)
                """);
        assertEquals(List.of("nil\tload refuses precompiled bytecode", "42\t41",
                "[sim] pid 1 (bad.lua) exited with code 0"), logs(rt, "bad"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "getmetatable('').__index.rep = nil",
            "string.rep = nil",
            "rawset(string, 'upper', nil)",
            "table.insert(table, 1)",
            "table.sort(math)",
            "table.remove(string)",
            "setmetatable(string, {})",
            "setmetatable(_ENV, {})",
            "getmetatable('').__index = nil",
            "rawset(getmetatable(''), '__index', {})",
            "os.hostname = function() return 'evil' end",
    })
    void sharedTablesCannotBeWritten(String attempt) {
        SimRuntime rt = runBesideGood(attempt);
        SimVmStatus bad = status(rt, "bad");
        assertEquals("failed", bad.processes().get(0).state(), attempt + " must raise an error");
        String err = bad.processes().get(0).lastError();
        assertTrue(err.contains("read-only") || err.contains("protected"), attempt + " -> " + err);
    }

    @Test
    void theEnvironmentMetatableIsProtected() {
        SimRuntime rt = runBesideGood("log(getmetatable(_ENV)); return exit(0)");
        assertEquals("the sandbox environment is protected", logs(rt, "bad").get(0));
    }

    @Test
    void globalsOfOneVmAreInvisibleToAnother() {
        SimRuntime rt = runtime(config(), "10.0.0.1", "10.0.0.2");
        rt.addVm(vm("a", "10.0.0.1", "secret = 42; print = nil; function on_start() return wait_packet() end"));
        rt.addVm(vm("b", "10.0.0.2", "function on_start() log(secret, type(print)); return wait_packet() end"));
        rt.step(2);
        assertEquals(List.of("nil\tfunction"), logs(rt, "b"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "while true do end | instruction budget exhausted",
            "pcall(function() while true do end end) | instruction budget exhausted",
            "local function f() return f() + 1 end f() | call depth limit exceeded",
            "pcall(function() local function f() return 1 + f() end return f() end) | call depth limit exceeded",
            "local s = string.rep('x', 1e9) | string.rep would build",
            "pcall(string.rep, 'x', 2^40) | string.rep would build",
            "local s = ('y'):rep(2^31) | string.rep would build",
            "local s = 'x' for i = 1, 40 do s = s .. s end | '..' would build",
            "local t = {} for i = 1, 200 do t[i] = string.rep('z', 10000) end local s = table.concat(t) | table.concat would build",
            "local s = string.rep('a', 1000) local r = s:gsub('a', string.rep('b', 2000)) | string.gsub would build",
            "local s = string.rep('a', 1000) local r = s:gsub('a', function(c) return string.rep('b', 2000) end) | string.gsub would build",
            "local s = string.rep('a', 1000) local r = s:gsub('a', {a = string.rep('b', 2000)}) | string.gsub would build",
            "xpcall(function() while true do end end, function(e) return e end) | instruction budget exhausted",
            "xpcall(function() error('x') end, function(e) while true do end end) | instruction budget exhausted",
            "xpcall(function() error('x') end, function(e) return string.rep('x', 2^40) end) log('go on') | string.rep would build",
            "xpcall(function() error('x') end, function(e) local function f() return f() + 1 end return f() end) | call depth limit exceeded",
            "local t = {} for i = 1, 100 do t[i] = string.rep('x', 1000000) end | string building limit exhausted",
            "local t = {} for i = 1, 100 do t[i] = string.rep('x', 500000) .. string.rep('y', 500000) end | string building limit exhausted",
    })
    void exhaustionStopsTheVmWithAClearReason(String body, String reason) {
        SimRuntime rt = runBesideGood(body);
        SimVmStatus bad = status(rt, "bad");
        assertEquals("stopped", bad.state(), body + " must stop the VM");
        assertTrue(bad.stopReason().contains(reason.trim()), "reason '" + bad.stopReason() + "' should say " + reason);
        assertEquals("killed", bad.processes().get(0).state());
        assertTrue(bad.processes().get(0).lastError().contains(reason.trim()));
        assertEquals(1, bad.ticksRun(), "a stopped VM is not run again");
    }

    @Test
    void budgetTracebackPointsAtTheLoop() {
        SimRuntime rt = runBesideGood("local i = 0\nwhile true do\n i = i + 1\nend");
        String err = status(rt, "bad").processes().get(0).lastError();
        assertTrue(err.contains("stack traceback:") && err.contains("bad.lua:"), err);
    }

    @Test
    void unpackingAHugeRangeIsAnErrorNotAnAllocation() {
        SimRuntime rt = runBesideGood("local a, b = table.unpack({1, 2}) log(a, b) local x = table.unpack({}, 1, 1e8)");
        assertEquals("1\t2", logs(rt, "bad").get(0));
        assertTrue(status(rt, "bad").processes().get(0).lastError().contains("too many results to unpack"));
    }

    @Test
    void aStoppedVmLetsGoOfItsLuaState() {
        SimRuntime rt = runBesideGood("big = {} for i = 1, 10 do big[i] = string.rep('x', 1000000) end while true do end");
        SimVmStatus bad = status(rt, "bad");
        assertEquals("stopped", bad.state());
        assertTrue(bad.stopReason().contains("instruction budget exhausted"), bad.stopReason());
    }

    @Test
    void oversizedFormatWidthIsAnError() {
        SimRuntime rt = runBesideGood("local s = string.format('%0999999d', 1)");
        assertTrue(status(rt, "bad").processes().get(0).lastError().contains("width or precision too long"));
    }

    @Test
    void modestStringBuildingStillWorks() {
        SimRuntime rt = runBesideGood("""
                local s = ("ab"):rep(1000)
                local t = {} for i = 1, 100 do t[i] = tostring(i) end
                local c = table.concat(t, "-")
                local g, n = ("hello world"):gsub("o", "%0%0")
                log(#s, #c, g, n, string.format("%d|%s|", 42, "x"), "a" .. "b" .. 1)
                return exit(0)
                """);
        assertEquals("2000\t291\thelloo woorld\t2\t42|x|\tab1", logs(rt, "bad").get(0));
    }

    @Test
    void aFloodedMailboxDropsAndCountsQueueFull() {
        SimRuntime rt = runtime(config().withMailboxCapacity(8).withMaxSendsPerTick(100), "10.0.0.1", "10.0.0.2");
        rt.addVm(vm("flooder", "10.0.0.1", """
                function on_tick(ctx) for i = 1, 50 do net.send("10.0.0.2", 7, "x") end return exit(0) end
                """));
        rt.addVm(vm("sink", "10.0.0.2", """
                return { on_start = function() net.listen(7) return wait_packet() end,
                         on_packet = function(ctx, p) ctx.n = (ctx.n or 0) + 1 end }
                """));
        rt.step(4);
        SimVmStatus sink = status(rt, "sink");
        assertEquals(8, sink.packetsIn());
        assertEquals(42L, sink.drops().get("QUEUE_FULL"));
        assertEquals("running", sink.state());
        assertEquals(42L, rt.stats().drops().get("QUEUE_FULL"));
    }

    @Test
    void tooManySendsInOneTickAreDroppedAsQueueFull() {
        SimRuntime rt = runtime(config().withMaxSendsPerTick(10), "10.0.0.1", "10.0.0.2");
        rt.addVm(vm("flooder", "10.0.0.1", """
                function on_tick(ctx)
                  local ok = 0
                  for i = 1, 15 do if net.send("10.0.0.2", 7, "x") then ok = ok + 1 end end
                  log(ok) return exit(0)
                end
                """));
        rt.step(2);
        assertEquals("10", logs(rt, "flooder").get(0));
        assertEquals(5L, status(rt, "flooder").drops().get("QUEUE_FULL"));
    }
}

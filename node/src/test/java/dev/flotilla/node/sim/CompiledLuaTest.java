package dev.flotilla.node.sim;

import dev.flotilla.node.net.Router;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static dev.flotilla.node.sim.SimTestSupport.logs;
import static dev.flotilla.node.sim.SimTestSupport.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Programs compiled to JVM classes (JvmCompiler) behave as they do in LuaJ's interpreter: each program
 * here runs both ways and must log the same lines and end in the same state with the same error.
 */
class CompiledLuaTest {

    private record Outcome(List<String> logs, String state, String error) {
    }

    private static Outcome run(String program, boolean compiled) {
        return run(program, SimTestSupport.config().withCompileToJvm(compiled));
    }

    private static Outcome run(String program, SimConfig config) {
        SimRuntime rt = new SimRuntime(config, new Router("n1"));
        rt.addVm(new SimVmSpec("p", "10.0.0.1", "p",
                List.of(new SimProgram("p.lua", program)), List.of(), 0, Map.of()));
        rt.step(4);
        SimVmStatus s = status(rt, "p");
        String err = s.processes().get(0).lastError();
        String reason = s.stopReason().replaceAll(" \\(pid .*", "");
        return new Outcome(logs(rt, "p"), s.processes().get(0).state() + " " + s.state() + " " + reason,
                err.lines().findFirst().orElse(""));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // a loop as the first statement of a function with arguments (luajc's prologue bug)
            "function on_tick(ctx) while (ctx.n or 0) < 3 do ctx.n = (ctx.n or 0) + 1 end log(ctx.n) return exit(0) end",
            "return { on_tick = function(ctx) while (ctx.i or 0) - 1 < 5 do if (ctx.i or 0) > 3 then log('w', ctx.i) return exit(0) end ctx.i = (ctx.i or 0) + 1 end end }",
            "local function f(a, b) repeat a = a + b until a > 10 return a end log(f(1, 3)) return exit(0)",
            // closures, upvalues, one per loop iteration
            "local fs = {} for i = 1, 3 do fs[i] = function() return i * 10 end end log(fs[1](), fs[2](), fs[3]()) return exit(0)",
            "local function counter() local n = 0 return function() n = n + 1 return n end end local c = counter() c() c() log(c()) return exit(0)",
            "local x = 1 local function g() x = x + 1 end g() g() log(x) return exit(0)",
            // varargs, multiple results, select, tail calls
            "local function v(...) return select('#', ...), ... end log(v(1, nil, 3)) return exit(0)",
            "local function t(...) local a, b = ... return b, a end log(t('x', 'y', 'z')) return exit(0)",
            "local function loop(n, acc) if n == 0 then return acc end return loop(n - 1, acc + n) end log(loop(100, 0)) return exit(0)",
            "local function pack2(...) return {...} end local t = pack2(4, 5, 6) log(#t, table.unpack(t)) return exit(0)",
            // numbers and strings
            "log(7 % 3, 2 ^ 10, 1 / 2, -7 % 3, 7.5 % 2, math.huge, -0.0) return exit(0)",
            "for i = 1, 2, 0.5 do log(i) end for i = 3, 1, -1 do log(i) end return exit(0)",
            "log(('abc'):upper(), ('a,b,c'):gsub(',', ';'), string.format('%5.2f|%d|%s', 3.14159, 42, 'x')) return exit(0)",
            "local s = '' for i = 1, 5 do s = s .. i .. ',' end log(s, #s, 'a' .. 1 .. 2.5) return exit(0)",
            "log(tostring(nil), tonumber('0x10'), tonumber('z', 36), math.max(3, 9, 2), math.floor(-2.5)) return exit(0)",
            // tables, iteration, metatables
            "local t = {10, 20, 30, x = 1} local n = 0 for k, v in pairs(t) do n = n + v end for i, v in ipairs(t) do log(i, v) end log(n) return exit(0)",
            "local mt = {__index = function(t, k) return k .. '!' end, __add = function(a, b) return 99 end} local o = setmetatable({}, mt) log(o.hi, o + o) return exit(0)",
            "local V = {} V.__index = V function V.new(x) return setmetatable({x = x}, V) end function V:get() return self.x end log(V.new(5):get()) return exit(0)",
            "local mt = {__concat = function(a, b) return 'cat' end, __eq = function() return true end, __lt = function() return true end, __call = function(self, a) return a * 2 end} local a, b = setmetatable({}, mt), setmetatable({}, mt) log(a .. 'x', a == b, a < b, a(21)) return exit(0)",
            "local t = {} t[1.0] = 'one' t[2] = 'two' log(t[1], #t, next({})) return exit(0)",
            // goto, nested functions, recursion
            "local i = 0 ::top:: i = i + 1 if i < 4 then goto top end log(i) return exit(0)",
            "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end log(fib(15)) return exit(0)",
            // errors: messages, positions, pcall and xpcall
            "log(pcall(error, 'plain')) log(select(2, pcall(error, {code = 7})).code) return exit(0)",
            "local ok, e = pcall(function() local x = nil return x.y end) log(ok, (e:gsub('\\n.*', ''))) return exit(0)",
            "local ok, e = xpcall(function() error('deep') end, function(m) return 'handled: ' .. m end) log(ok, e) return exit(0)",
            "function on_tick(ctx) local t = nil\nreturn t.field end",
            "function on_tick(ctx)\nerror('boom')\nend",
            "function on_tick(ctx)\nerror(42)\nend",
            "function on_tick(ctx) local a = 'x' + 1 end",
    })
    void runsAsInTheInterpreter(String program) {
        Outcome interpreted = run(program, false);
        Outcome compiled = run(program, true);
        assertEquals(interpreted, compiled, program);
    }

    /**
     * Compiled code charges each call its function's whole length and each loop iteration its body's, an
     * upper bound of what the interpreter counts; away from the limit both stop the same programs.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "local n = 0 for i = 1, 5000 do n = n + i end log(n) return exit(0)",
            "local n = 0 for i = 1, 60000 do n = n + i end log(n) return exit(0)",
            "local i = 0 while i < 4000 do i = i + 1 end log(i) return exit(0)",
            "local i = 0 while i < 40000 do i = i + 1 end log(i) return exit(0)",
            "local function f(n) if n > 0 then return f(n - 1) end return 0 end log(f(3000)) return exit(0)",
            "local function f(n) if n > 0 then return f(n - 1) end return 0 end log(f(60000)) return exit(0)",
            "local function f(n) if n > 0 then return 1 + f(n - 1) end return 0 end log(f(150)) return exit(0)",
            "local function f(n) if n > 0 then return 1 + f(n - 1) end return 0 end log(f(250)) return exit(0)",
            "log(pcall(function() while true do end end))",
            "xpcall(function() error('x') end, function(e) while true do end end)",
            "local s = 'x' for i = 1, 40 do s = s .. s end",
            "local t = {} for i = 1, 100 do t[i] = string.rep('x', 500000) .. string.rep('y', 500000) end",
            "local s = string.rep('a', 600000) local u = s .. s",
            "local s = string.rep('a', 400000) local u = s .. 'b' .. s .. 'c' .. s",
    })
    void theSandboxStopsTheSameProgramsCompiledOrInterpreted(String program) {
        SimConfig config = SimTestSupport.config().withInstructionBudget(50_000);
        Outcome interpreted = run(program, config.withCompileToJvm(false));
        Outcome compiled = run(program, config.withCompileToJvm(true));
        assertEquals(interpreted, compiled, program);
    }

    @Test
    void theSameProgramIsCompiledOnceAndSharedByEveryVm() {
        CompiledProgram a = ProgramCache.compile("shared.lua", "return {on_tick = function(ctx) end}");
        CompiledProgram b = ProgramCache.compile("shared.lua", "return {on_tick = function(ctx) end}");
        assertNotNull(a.jvmMain(), "luajc compiles a plain program");
        assertTrue(a == b, "one compiled program per source");
    }

    @Test
    void aProgramLuajcCannotCompileRunsInTheInterpreter() {
        // More locals than a JVM method's constant-size frame in luajc allows is not the issue here;
        // a function body over the JVM's 64 KiB method limit is: luajc fails, the interpreter runs it.
        StringBuilder big = new StringBuilder("local t = {}\n");
        for (int i = 0; i < 6000; i++) {
            big.append("t[").append(i).append("] = ").append(i).append(" * 2 + 1\n");
        }
        big.append("log(t[5999]) return exit(0)");
        CompiledProgram p = CompiledProgram.compile("big.lua", big.toString());
        assertEquals(null, p.jvmMain(), "too big for one JVM method");
        assertEquals(run(big.toString(), false), run(big.toString(), true));
        assertEquals(List.of("11999"), run(big.toString(), true).logs());
    }
}

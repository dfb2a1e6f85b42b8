package dev.flotilla.node.sim;

import dev.flotilla.node.net.DropReason;
import dev.flotilla.node.net.Ipv4;
import dev.flotilla.node.net.Packet;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaClosure;
import org.luaj.vm2.LuaError;
import org.luaj.vm2.LuaString;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Prototype;
import org.luaj.vm2.Varargs;
import org.luaj.vm2.compiler.LuaC;
import org.luaj.vm2.lib.BaseLib;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Builds a shard's read-only base environment: a safe subset of Lua's base library, the frozen shared
 * libraries, and the simulation API (os, fs, net, log, sleep/wait_packet/exit). The functions act on
 * the shard's current VM and process, which the shard sets before each handler call.
 * Left out on purpose: io, luajava, the host os, debug, collectgarbage, dofile, loadfile, require,
 * string.dump, and coroutine (a LuaJ coroutine is a Java platform thread).
 */
final class LuaApi {
    private static final List<String> SAFE_BASE = List.of("assert", "error", "ipairs", "next", "pairs", "pcall",
            "xpcall", "rawequal", "rawget", "rawlen", "rawset", "select", "tonumber", "tostring", "type",
            "getmetatable", "setmetatable", "unpack", "_VERSION");
    private static final int MAX_LOG_LINE = 1024;
    private static final int MAX_PROCESSES = 64;

    private final Shard shard;

    private LuaApi(Shard shard) {
        this.shard = shard;
    }

    /** The metatable every VM environment on this shard gets: {__index = base}, protected. */
    static FrozenTable envMetatable(Shard shard, Globals globals) {
        globals.load(new BaseLib());
        LuaApi api = new LuaApi(shard);
        Map<String, LuaValue> base = new LinkedHashMap<>();
        for (String name : SAFE_BASE) {
            LuaValue v = globals.get(name);
            if (!v.isnil()) {
                base.put(name, v);
            }
        }
        if (base.containsKey("unpack")) {
            base.put("unpack", Strings.SAFE_UNPACK);
        }
        base.put("string", Strings.STRING);
        base.put("table", Strings.TABLE);
        base.put("math", Strings.MATH);
        base.put("bit32", Strings.BIT32);
        base.put("log", fn("log", api::log));
        base.put("print", fn("print", api::log));
        base.put("load", fn("load", api::load));
        base.put("sleep", fn("sleep", a -> Wake.sleep(a.optlong(1, 1))));
        base.put("wait_packet", fn("wait_packet", a -> Wake.WAIT));
        base.put("exit", fn("exit", a -> Wake.exit(a.optint(1, 0))));
        base.put("os", new FrozenTable(Map.of(
                "hostname", fn("hostname", a -> LuaValue.valueOf(api.vm().spec.hostname())),
                "ip", fn("ip", a -> LuaValue.valueOf(Ipv4.format(api.vm().ip))),
                "time", fn("time", a -> LuaValue.valueOf((double) shard.tick)),
                "pid", fn("pid", a -> LuaValue.valueOf(api.proc().pid)),
                "spawn", fn("spawn", api::spawn),
                "exit", fn("exit", a -> {
                    throw new ProcessExit(a.optint(1, 0));
                }),
                "timer", fn("timer", api::timer))));
        base.put("fs", new FrozenTable(Map.of(
                "read", fn("read", api::fsRead),
                "write", fn("write", a -> api.fsWrite(a, false)),
                "append", fn("append", a -> api.fsWrite(a, true)),
                "list", fn("list", api::fsList),
                "remove", fn("remove", api::fsRemove),
                "exists", fn("exists", a -> LuaValue.valueOf(api.fs().exists(path(a)))),
                "mkdir", fn("mkdir", api::fsMkdir))));
        base.put("net", new FrozenTable(Map.of(
                "send", fn("send", api::send),
                "listen", fn("listen", api::listen),
                "resolve", fn("resolve", api::resolve))));
        FrozenTable frozenBase = new FrozenTable(base);
        return new FrozenTable(Map.of("__index", frozenBase,
                "__metatable", LuaValue.valueOf("the sandbox environment is protected")));
    }

    private static ApiFunction fn(String name, java.util.function.Function<Varargs, Varargs> body) {
        return new ApiFunction(name, body);
    }

    private Vm vm() {
        Vm vm = shard.current;
        if (vm == null) {
            throw new LuaError("no VM is running on this shard");
        }
        return vm;
    }

    private LuaProcess proc() {
        LuaProcess p = shard.currentProc;
        if (p == null) {
            throw new LuaError("no process is running on this shard");
        }
        return p;
    }

    private static Varargs fail(String message) {
        return LuaValue.varargsOf(LuaValue.NIL, LuaValue.valueOf(message));
    }

    private Varargs log(Varargs args) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= args.narg() && sb.length() < MAX_LOG_LINE; i++) {
            if (i > 1) {
                sb.append('\t');
            }
            sb.append(args.arg(i).tojstring());
        }
        String line = sb.length() > MAX_LOG_LINE ? sb.substring(0, MAX_LOG_LINE) : sb.toString();
        shard.log(vm(), line);
        return LuaValue.NONE;
    }

    private Varargs load(Varargs args) {
        LuaValue chunk = args.arg1();
        if (!chunk.isstring()) {
            return fail("load takes Lua source text only (no reader functions)");
        }
        LuaString text = chunk.checkstring();
        if (text.length() > 0 && text.luaByte(0) == 27) {
            return fail("load refuses precompiled bytecode");
        }
        String name = args.optjstring(2, "=(load)");
        if (!args.isnoneornil(3) && !args.checkjstring(3).contains("t")) {
            return fail("load supports mode \"t\" (text) only");
        }
        try {
            Prototype p = LuaC.instance.compile(new ByteArrayInputStream(text.m_bytes, text.m_offset, text.m_length), name);
            LuaClosure c = new LuaClosure(p, shard.globals);
            if (c.upValues.length > 0) {
                c.upValues[0].setValue(args.arg(4).istable() ? args.arg(4) : vm().env);
            }
            return c;
        } catch (LuaError | IOException e) {
            return fail(e.getMessage());
        }
    }

    private Varargs spawn(Varargs args) {
        Vm vm = vm();
        String name = args.checkjstring(1);
        CompiledProgram program = vm.program(name);
        if (program == null) {
            return fail("no program named '" + name + "' in this VM's spec");
        }
        int live = 0;
        for (LuaProcess p : vm.procs) {
            if (p != null && p.alive()) {
                live++;
            }
        }
        if (live >= MAX_PROCESSES) {
            return fail("too many processes (" + MAX_PROCESSES + ")");
        }
        LuaProcess p = vm.spawn(program);
        vm.pendingStart = true;
        shard.scheduleNext(vm);
        return LuaValue.valueOf(p.pid);
    }

    private Varargs timer(Varargs args) {
        long ticks = args.checklong(1);
        LuaValue id = args.arg(2);
        LuaProcess p = proc();
        Vm vm = vm();
        if (vm.timers >= shard.config.maxTimersPerVm()) {
            return fail("too many pending timers (" + shard.config.maxTimersPerVm() + ")");
        }
        vm.timers++;
        shard.wheel.add(new TimerWheel.Entry(p, shard.tick + Math.max(1, ticks), id.isnil() ? LuaValue.TRUE : id));
        return LuaValue.TRUE;
    }

    private VmFs fs() {
        return shard.fsOf(vm());
    }

    private static String path(Varargs a) {
        String p = a.checkjstring(1);
        try {
            return VmFs.check(p);
        } catch (IllegalArgumentException e) {
            throw new LuaError(e.getMessage());
        }
    }

    private Varargs fsRead(Varargs a) {
        byte[] data = fs().read(path(a));
        return data == null ? LuaValue.NIL : LuaString.valueUsing(data);
    }

    private Varargs fsWrite(Varargs a, boolean append) {
        String p = path(a);
        LuaString s = a.checkstring(2);
        byte[] data = new byte[s.m_length];
        System.arraycopy(s.m_bytes, s.m_offset, data, 0, s.m_length);
        String err = fs().write(p, data, append);
        if (err != null) {
            return fail(err);
        }
        shard.fsChanged(vm());
        return LuaValue.TRUE;
    }

    private Varargs fsList(Varargs a) {
        List<String> names = fs().list(path(a));
        if (names == null) {
            return fail("no directory '" + a.checkjstring(1) + "'");
        }
        LuaTable t = new LuaTable(names.size(), 0);
        for (int i = 0; i < names.size(); i++) {
            t.rawset(i + 1, LuaValue.valueOf(names.get(i)));
        }
        return t;
    }

    private Varargs fsRemove(Varargs a) {
        String err = fs().remove(path(a));
        if (err != null) {
            return fail(err);
        }
        shard.fsChanged(vm());
        return LuaValue.TRUE;
    }

    private Varargs fsMkdir(Varargs a) {
        String err = fs().mkdir(path(a));
        if (err != null) {
            return fail(err);
        }
        shard.fsChanged(vm());
        return LuaValue.TRUE;
    }

    private Varargs send(Varargs a) {
        Vm vm = vm();
        LuaProcess p = proc();
        String dst = a.checkjstring(1);
        int port = a.checkint(2);
        if (port < 1 || port > 65535) {
            throw new LuaError("bad port " + port + " (use 1 to 65535)");
        }
        LuaString payload = a.optstring(3, LuaValue.EMPTYSTRING);
        if (payload.m_length > shard.config.maxPacketBytes()) {
            throw new LuaError("payload is " + payload.m_length + " bytes; net.send takes at most "
                    + shard.config.maxPacketBytes());
        }
        int srcPort = a.isnoneornil(4) ? vm.firstPortOf(p) : a.checkint(4);
        OptionalInt ip = shard.router.resolve(dst);
        if (ip.isEmpty()) {
            vm.countDrop(DropReason.NO_ROUTE.ordinal());
            shard.router.countDrop(DropReason.NO_ROUTE);
            return fail("cannot resolve '" + dst + "'");
        }
        if (vm.sentTick != shard.tick) {
            vm.sentTick = shard.tick;
            vm.sentThisTick = 0;
        }
        if (++vm.sentThisTick > shard.config.maxSendsPerTick()) {
            vm.countDrop(DropReason.QUEUE_FULL.ordinal());
            shard.router.countDrop(DropReason.QUEUE_FULL);
            return fail("send queue full (" + shard.config.maxSendsPerTick() + " packets per tick)");
        }
        byte[] bytes = new byte[payload.m_length];
        System.arraycopy(payload.m_bytes, payload.m_offset, bytes, 0, bytes.length);
        shard.send(vm, new Packet(vm.ip, srcPort, ip.getAsInt(), port, Packet.DEFAULT_TTL, bytes));
        return LuaValue.TRUE;
    }

    private Varargs listen(Varargs a) {
        int port = a.checkint(1);
        if (port < 1 || port > 65535) {
            throw new LuaError("bad port " + port + " (use 1 to 65535)");
        }
        if (!vm().listen(port, proc())) {
            return fail("port " + port + " is taken by another process");
        }
        return LuaValue.TRUE;
    }

    private Varargs resolve(Varargs a) {
        String name = a.checkjstring(1);
        OptionalInt literal = Ipv4.parse(name);
        if (literal.isPresent()) {
            Optional<String> ptr = shard.router.reverse(literal.getAsInt());
            return ptr.<LuaValue>map(LuaValue::valueOf).orElse(LuaValue.NIL);
        }
        OptionalInt ip = shard.router.resolve(name);
        return ip.isPresent() ? LuaValue.valueOf(Ipv4.format(ip.getAsInt())) : LuaValue.NIL;
    }
}

package dev.flotilla.node.sim;

import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaError;
import org.luaj.vm2.LuaString;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Varargs;
import org.luaj.vm2.lib.VarArgFunction;
import org.luaj.vm2.lib.jse.JsePlatform;

import java.util.Map;

/**
 * The library tables every VM shares (string, table, math, bit32), frozen, with the string builders
 * capped. LuaJ keeps the string metatable in one static field for the whole JVM, so the cap is
 * JVM-wide too: the last runtime created sets it.
 */
final class Strings {
    static volatile int cap = 1 << 20;

    static final LuaTable STRING;
    static final LuaTable TABLE;
    static final LuaTable MATH;
    static final LuaTable BIT32;

    private static final LuaValue REP;
    private static final LuaValue GSUB;
    private static final LuaValue FORMAT;
    private static final LuaValue CONCAT;
    private static final LuaValue UNPACK;
    static final LuaValue SAFE_UNPACK;

    static {
        // A throwaway full Globals only to take the library tables from; scripts never see it.
        Globals g = JsePlatform.standardGlobals();
        LuaTable string = g.get("string").checktable();
        LuaTable table = g.get("table").checktable();
        REP = string.get("rep");
        GSUB = string.get("gsub");
        FORMAT = string.get("format");
        CONCAT = table.get("concat");
        UNPACK = table.get("unpack");
        SAFE_UNPACK = fn("unpack", Strings::unpack);
        STRING = FrozenTable.copyOf(string, Map.of("rep", fn("rep", Strings::rep), "gsub", fn("gsub", Strings::gsub),
                "format", fn("format", Strings::format)), "dump");
        TABLE = FrozenTable.copyOf(table, Map.of("concat", fn("concat", Strings::concat), "unpack", SAFE_UNPACK));
        MATH = FrozenTable.copyOf(g.get("math").checktable(), Map.of());
        BIT32 = FrozenTable.copyOf(g.get("bit32").checktable(), Map.of());
        // Replaces the metatable StringLib just installed: ("x"):rep(...) must meet the same caps and no
        // script may write to the table every string in the JVM shares.
        LuaString.s_metatable = new FrozenTable(Map.of("__index", STRING));
    }

    private Strings() {
    }

    /** Makes sure the static setup ran (and the string metatable is ours). */
    static void install(int maxStringBytes) {
        cap = maxStringBytes;
    }

    private static ApiFunction fn(String name, java.util.function.Function<Varargs, Varargs> body) {
        return new ApiFunction(name, body);
    }

    static SandboxViolation tooLarge(String what, long bytes) {
        return Shard.sticky(new SandboxViolation("string too large: " + what + " would build " + bytes
                + " bytes (limit " + cap + ")", Shard.tracebackHere()));
    }

    private static Varargs rep(Varargs args) {
        LuaString s = args.checkstring(1);
        long n = args.checklong(2);
        LuaString sep = args.optstring(3, LuaValue.EMPTYSTRING);
        long total = n <= 0 ? 0 : s.length() * n + sep.length() * (n - 1);
        if (total > cap) {
            throw tooLarge("string.rep", total);
        }
        Shard.charge(total, "string.rep");
        return REP.invoke(args);
    }

    private static Varargs format(Varargs args) {
        LuaString f = args.checkstring(1);
        // Real Lua refuses widths and precisions over two digits; LuaJ does not, so a tiny format
        // could ask for a gigabyte of padding.
        int digits = 0;
        boolean inSpec = false;
        for (int i = 0; i < f.length(); i++) {
            int c = f.luaByte(i);
            if (c == '%') {
                inSpec = !inSpec;
                digits = 0;
            } else if (inSpec && c >= '0' && c <= '9') {
                if (++digits > 2) {
                    throw new LuaError("invalid format (width or precision too long)");
                }
            } else if (inSpec && c == '.') {
                digits = 0;
            } else if (inSpec && c != '-' && c != '+' && c != ' ' && c != '#') {
                inSpec = false;
            }
        }
        Varargs out = FORMAT.invoke(args);
        if (out.arg1().isstring()) {
            int len = out.arg1().checkstring().length();
            if (len > cap) {
                throw tooLarge("string.format", len);
            }
            Shard.charge(len, "string.format");
        }
        return out;
    }

    private static Varargs gsub(Varargs args) {
        LuaString s = args.checkstring(1);
        args.checkstring(2);
        LuaValue repl = args.arg(3);
        long len = s.length();
        if (repl.isstring()) {
            LuaString r = repl.checkstring();
            int refs = 0;
            for (int i = 0; i + 1 < r.length(); i++) {
                if (r.luaByte(i) == '%') {
                    if (Character.isDigit(r.luaByte(i + 1))) {
                        refs++;
                    }
                    i++;
                }
            }
            long perMatch = r.length() + refs * len;
            if (len + (len + 1) * perMatch > cap) {
                // The bound assumed a match at every position; count the real matches (replacing each
                // match by itself builds a string no longer than the input).
                Varargs counted = GSUB.invoke(LuaValue.varargsOf(new LuaValue[] {s, args.arg(2),
                        LuaValue.valueOf("%0"), args.arg(4)}));
                long total = len + counted.arg(2).tolong() * perMatch;
                if (total > cap) {
                    throw tooLarge("string.gsub", total);
                }
            }
            Varargs out = GSUB.invoke(args);
            Shard.charge(out.arg1().checkstring().length(), "string.gsub");
            return out;
        }
        if (repl.istable() || repl.isfunction()) {
            long[] total = {len};
            LuaValue wrapped = new VarArgFunction() {
                @Override
                public Varargs invoke(Varargs captures) {
                    LuaValue v = repl.istable() ? repl.get(captures.arg1()) : repl.invoke(captures).arg1();
                    if (v.isstring()) {
                        total[0] += v.checkstring().length();
                        if (total[0] > cap) {
                            throw tooLarge("string.gsub", total[0]);
                        }
                    }
                    return v;
                }
            };
            Varargs out = GSUB.invoke(LuaValue.varargsOf(new LuaValue[] {s, args.arg(2), wrapped, args.arg(4)}));
            Shard.charge(out.arg1().checkstring().length(), "string.gsub");
            return out;
        }
        return GSUB.invoke(args);
    }

    private static Varargs concat(Varargs args) {
        LuaTable t = args.checktable(1);
        LuaString sep = args.optstring(2, LuaValue.EMPTYSTRING);
        int i = args.optint(3, 1);
        int j = args.isnoneornil(4) ? t.length() : args.checkint(4);
        long total = 0;
        for (int k = i; k <= j; k++) {
            LuaValue v = t.get(k);
            if (!v.isstring()) {
                break; // LuaJ reports the bad element itself below
            }
            total += v.checkstring().length() + (k < j ? sep.length() : 0);
            if (total > cap) {
                throw tooLarge("table.concat", total);
            }
        }
        Shard.charge(total, "table.concat");
        return CONCAT.invoke(args);
    }

    /** Results one unpack may produce; LuaJ would allocate an array of any size asked for. */
    static final int MAX_UNPACK = 100_000;

    private static Varargs unpack(Varargs args) {
        LuaTable t = args.checktable(1);
        long i = args.optlong(2, 1);
        long j = args.isnoneornil(3) ? t.length() : args.checklong(3);
        if (j - i + 1 > MAX_UNPACK) {
            throw new LuaError("too many results to unpack (" + (j - i + 1) + "; at most " + MAX_UNPACK + ")");
        }
        return UNPACK.invoke(args);
    }
}

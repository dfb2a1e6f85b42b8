package dev.flotilla.node.sim;

import dev.flotilla.node.net.Packet;
import org.luaj.vm2.LuaClosure;
import org.luaj.vm2.LuaFunction;
import org.luaj.vm2.LuaNumber;
import org.luaj.vm2.LuaString;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.UpValue;
import org.luaj.vm2.Varargs;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Estimates the heap one VM's Lua data holds: what its environment, its processes' handler tables and
 * the closures in them reach, and the packets waiting for it. What every VM shares (library tables and
 * functions, the programs' code) is not counted. The sizes are those of a 64-bit JVM with compressed
 * pointers, rounded up, so the figure errs high. A walk stops as soon as it passes its limit: measuring
 * an offender costs no more than its quota.
 */
final class LuaHeap {
    private static final VarHandle ARRAY;
    private static final VarHandle HASH;
    /** The upvalue fields of a class luajc wrote (LuaValue, or LuaValue[] for one a closure assigns). */
    private static final ClassValue<Field[]> UPVALUE_FIELDS = new ClassValue<>() {
        @Override
        protected Field[] computeValue(Class<?> c) {
            List<Field> out = new ArrayList<>();
            for (Field f : c.getDeclaredFields()) {
                boolean value = LuaValue.class.isAssignableFrom(f.getType()) || f.getType() == LuaValue[].class;
                if (value && !Modifier.isStatic(f.getModifiers()) && !f.getName().equals(JvmCompiler.METER_FIELD)) {
                    f.setAccessible(true);
                    out.add(f);
                }
            }
            return out.toArray(Field[]::new);
        }
    };

    static {
        try {
            MethodHandles.Lookup t = MethodHandles.privateLookupIn(LuaTable.class, MethodHandles.lookup());
            ARRAY = t.findVarHandle(LuaTable.class, "array", LuaValue[].class);
            HASH = t.findVarHandle(LuaTable.class, "hash", Class.forName("org.luaj.vm2.LuaTable$Slot").arrayType());
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private IdentityHashMap<Object, Boolean> seen = new IdentityHashMap<>();
    private ArrayList<LuaValue> work = new ArrayList<>();
    private long bytes;
    private long limit;
    /** Values looked at by the last walk: what it cost. */
    long visits;

    /** About how many bytes {@code vm}'s Lua data holds; stops counting once past {@code limit}. */
    long measure(Vm vm, long limit) {
        this.limit = limit;
        bytes = 0;
        visits = 0;
        try {
            push(vm.env);
            for (LuaProcess p : vm.procs) {
                if (p != null) {
                    push(p.ctx);
                    push(p.onTick);
                    push(p.onPacket);
                    push(p.onTimer);
                }
            }
            if (vm.mailbox != null) {
                for (Packet pk : vm.mailbox) {
                    bytes += 64 + pk.payload().length;
                }
            }
            while (!work.isEmpty() && bytes <= limit) {
                walk(work.remove(work.size() - 1));
            }
            return bytes;
        } finally {
            if (visits > 1024) {
                // A big VM was walked: do not keep its sizes' worth of room (and clear() would sweep the
                // whole grown table every time).
                work = new ArrayList<>();
                seen = new IdentityHashMap<>();
            } else {
                work.clear();
                seen.clear();
            }
        }
    }

    private void push(LuaValue v) {
        if (v != null) {
            work.add(v);
        }
    }

    private boolean firstTime(Object o) {
        return seen.put(o, Boolean.TRUE) == null;
    }

    private void walk(LuaValue v) {
        visits++;
        if (v instanceof LuaString s) {
            bytes += 32;
            // Substrings share their backing array: count each array once.
            if (s.m_bytes.length < 64) {
                bytes += 16 + s.m_bytes.length;
            } else if (firstTime(s.m_bytes)) {
                bytes += 16 + s.m_bytes.length;
            }
        } else if (v instanceof LuaNumber) {
            bytes += 16;
        } else if (v instanceof FrozenTable) {
            return; // shared by every VM
        } else if (v instanceof LuaTable t) {
            if (firstTime(t)) {
                table(t);
            }
        } else if (v instanceof LuaClosure c) {
            if (firstTime(c)) {
                bytes += 32 + 16 + 4L * c.upValues.length;
                for (UpValue u : c.upValues) {
                    if (u != null) {
                        bytes += 24;
                        push(u.getValue());
                    }
                }
            }
        } else if (v instanceof LuaFunction f && f.getClass().getClassLoader() instanceof JvmCompiler.ProgramLoader) {
            if (firstTime(f)) {
                compiled(f);
            }
        } else if (v.isuserdata()) {
            bytes += 16; // Wake values; scripts cannot make userdata
        }
        // nil, booleans and the shared library functions hold nothing of the VM's own
    }

    private void table(LuaTable t) {
        LuaValue[] array = (LuaValue[]) ARRAY.get(t);
        Object[] hash = (Object[]) HASH.get(t);
        bytes += 48 + 16 + 4L * array.length + 16 + 4L * hash.length;
        LuaValue meta = t.getmetatable();
        if (meta != null) {
            push(meta);
        }
        LuaValue k = LuaValue.NIL;
        while (bytes <= limit) {
            Varargs n = t.next(k);
            k = n.arg1();
            if (k.isnil()) {
                return;
            }
            visits++;
            if (k.isinttype()) {
                int i = k.toint();
                bytes += i >= 1 && i <= array.length ? 0 : 40; // the array part's slot is counted above
            } else {
                bytes += 40; // an entry of the hash part
                push(k);
            }
            push(n.arg(2));
        }
    }

    private void compiled(LuaFunction f) {
        Field[] fields = UPVALUE_FIELDS.get(f.getClass());
        bytes += 16 + 4L * fields.length;
        try {
            for (Field field : fields) {
                Object o = field.get(f);
                if (o instanceof LuaValue[] cell) {
                    bytes += 16 + 4L * cell.length;
                    for (LuaValue x : cell) {
                        push(x);
                    }
                } else if (o instanceof LuaValue x) {
                    push(x);
                }
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read an upvalue of " + f.getClass().getName(), e);
        }
    }
}

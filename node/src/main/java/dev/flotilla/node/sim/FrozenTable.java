package dev.flotilla.node.sim;

import org.luaj.vm2.LuaError;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Varargs;

import java.util.Map;

/**
 * A Lua table no script can change: the shared base, the library tables and the string metatable are
 * shared by every VM on the node, so one VM writing to them would reach all the others. Every mutator
 * LuaJ offers (set, rawset, insert, remove, sort, setmetatable) is refused with a Lua error.
 */
final class FrozenTable extends LuaTable {
    private boolean frozen;

    FrozenTable(Map<String, LuaValue> entries) {
        super(0, entries.size());
        entries.forEach((k, v) -> super.rawset(LuaValue.valueOf(k), v));
        frozen = true;
    }

    /** A frozen copy of every string-keyed entry of {@code source}. */
    static FrozenTable copyOf(LuaTable source, Map<String, LuaValue> overrides, String... without) {
        java.util.LinkedHashMap<String, LuaValue> m = new java.util.LinkedHashMap<>();
        LuaValue k = LuaValue.NIL;
        while (true) {
            Varargs n = source.next(k);
            k = n.arg1();
            if (k.isnil()) {
                break;
            }
            if (k.isstring()) {
                m.put(k.tojstring(), n.arg(2));
            }
        }
        for (String w : without) {
            m.remove(w);
        }
        m.putAll(overrides);
        return new FrozenTable(m);
    }

    private void refuse() {
        if (frozen) {
            throw new LuaError("attempt to modify a read-only table (the sandbox's shared libraries cannot be changed)");
        }
    }

    @Override
    public void set(int key, LuaValue value) {
        refuse();
        super.set(key, value);
    }

    @Override
    public void set(LuaValue key, LuaValue value) {
        refuse();
        super.set(key, value);
    }

    @Override
    public void rawset(int key, LuaValue value) {
        refuse();
        super.rawset(key, value);
    }

    @Override
    public void rawset(LuaValue key, LuaValue value) {
        refuse();
        super.rawset(key, value);
    }

    @Override
    public void hashset(LuaValue key, LuaValue value) {
        refuse();
        super.hashset(key, value);
    }

    @Override
    public LuaValue remove(int pos) {
        refuse();
        return super.remove(pos);
    }

    @Override
    public void insert(int pos, LuaValue value) {
        refuse();
        super.insert(pos, value);
    }

    @Override
    public void sort(LuaValue comparator) {
        refuse();
        super.sort(comparator);
    }

    @Override
    public LuaValue setmetatable(LuaValue metatable) {
        refuse();
        return super.setmetatable(metatable);
    }

    @Override
    public void presize(int narray, int nhash) {
        refuse();
        super.presize(narray, nhash);
    }

    @Override
    public void presize(int narray) {
        refuse();
        super.presize(narray);
    }
}

package dev.flotilla.node.sim;

import org.luaj.vm2.Lua;
import org.luaj.vm2.LuaClosure;
import org.luaj.vm2.LuaFunction;
import org.luaj.vm2.LuaString;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Prototype;
import org.luaj.vm2.Varargs;
import org.luaj.vm2.lib.DebugLib;

/**
 * The shard's hook into LuaJ's interpreter. LuaJ calls a Globals' debuglib on every instruction, call
 * and return of a closure made with those Globals; we install this instead of the real debug library
 * (which scripts never see) to count instructions against the handler's budget, cap call depth, refuse
 * '..' chains that would build an oversized string, and keep a light call stack for tracebacks.
 * Violations are {@link SandboxViolation}s, which pcall cannot catch.
 */
final class InstructionMeter extends DebugLib {
    private final int maxDepth;
    private final int maxStringBytes;
    private final long maxBuiltBytes;
    private long built;
    private SandboxViolation pending;
    private long remaining;
    private long budget;
    private int depth;
    private LuaFunction[] fn;
    private LuaValue[][] stacks;
    private int[] pcs;
    // The top frame, cached so the per-instruction hook touches as little memory as possible.
    private int[] topCode;
    private LuaValue[] topStack;
    private int topPc;

    InstructionMeter(int maxDepth, int maxStringBytes) {
        this.maxDepth = maxDepth;
        this.maxStringBytes = maxStringBytes;
        // Each string may be up to the cap, but one handler call may not build more than 16 of them:
        // otherwise a loop of capped string.rep calls allocates gigabytes before the budget runs out.
        this.maxBuiltBytes = 16L * maxStringBytes;
        int n = Math.min(maxDepth + 2, 64);
        fn = new LuaFunction[n];
        stacks = new LuaValue[n][];
        pcs = new int[n];
    }

    /** Starts a handler call with a fresh budget. */
    void begin(long instructions) {
        budget = instructions;
        remaining = instructions;
        built = 0;
        pending = null;
        for (int i = 0; i < depth; i++) {
            fn[i] = null;
            stacks[i] = null;
        }
        depth = 0;
        topCode = null;
        topStack = null;
        topPc = 0;
    }

    /** Instructions the last handler call used. */
    long used() {
        return budget - remaining;
    }

    @Override
    public void onCall(LuaFunction f) {
        push(f, null);
    }

    @Override
    public void onCall(LuaClosure c, Varargs varargs, LuaValue[] stack) {
        push(c, stack);
    }

    private void push(LuaFunction f, LuaValue[] stack) {
        if (depth >= maxDepth) {
            throw violate(new SandboxViolation("call depth limit exceeded (" + maxDepth + " nested calls)", traceback(0)));
        }
        if (depth == fn.length) {
            int n = Math.min(maxDepth + 2, fn.length * 2);
            fn = java.util.Arrays.copyOf(fn, n);
            stacks = java.util.Arrays.copyOf(stacks, n);
            pcs = java.util.Arrays.copyOf(pcs, n);
        }
        if (depth > 0) {
            pcs[depth - 1] = topPc; // the caller's position, for tracebacks
        }
        fn[depth] = f;
        stacks[depth] = stack;
        pcs[depth] = 0;
        depth++;
        topCode = f instanceof LuaClosure c ? c.p.code : null;
        topStack = stack;
        topPc = 0;
    }

    @Override
    public void onReturn() {
        if (depth > 0) {
            depth--;
            fn[depth] = null;
            stacks[depth] = null;
            if (depth > 0) {
                LuaFunction f = fn[depth - 1];
                topCode = f instanceof LuaClosure c ? c.p.code : null;
                topStack = stacks[depth - 1];
                topPc = pcs[depth - 1];
            } else {
                topCode = null;
                topStack = null;
            }
        }
    }

    @Override
    public void onInstruction(int pc, Varargs v, int top) {
        if (--remaining < 0) {
            if (pending != null) {
                throw pending;
            }
            throw violate(new SandboxViolation("instruction budget exhausted (" + budget
                    + " instructions per handler call)", traceback(0)));
        }
        topPc = pc;
        int[] code = topCode;
        if (code != null) {
            int i = code[pc];
            if ((i & 0x3f) == Lua.OP_CONCAT) {
                checkConcat(topStack, (i >>> 23) & 0x1ff, (i >>> 14) & 0x1ff);
            }
        }
    }

    private void checkConcat(LuaValue[] stack, int b, int c) {
        if (stack == null) {
            return;
        }
        long total = 0;
        for (int r = b; r <= c && r < stack.length; r++) {
            LuaValue x = stack[r];
            total += x instanceof LuaString s ? s.m_length : 32;
        }
        if (total > maxStringBytes) {
            throw violate(new SandboxViolation("string too large: '..' would build " + total + " bytes (limit "
                    + maxStringBytes + ")", traceback(0)));
        }
        charge(total, "'..'");
    }

    /**
     * Makes a violation sticky: LuaJ's error-handler hook (xpcall) catches every Throwable, so a
     * violation raised inside a message handler could be swallowed there. Zeroing the budget makes the
     * very next instruction throw it again, wherever it runs.
     */
    SandboxViolation violate(SandboxViolation v) {
        pending = v;
        remaining = 0;
        return v;
    }

    /** Counts bytes a string builder is about to make in this handler call; stops the VM past the limit. */
    void charge(long bytes, String what) {
        built += bytes;
        if (built > maxBuiltBytes) {
            throw violate(new SandboxViolation("string building limit exhausted: " + what + " brings this handler call to "
                    + built + " bytes built (limit " + maxBuiltBytes + " per call)", traceback(0)));
        }
    }

    @Override
    public String traceback(int level) {
        StringBuilder sb = new StringBuilder("stack traceback:");
        for (int d = depth - 1; d >= 0; d--) {
            sb.append("\n\t");
            LuaFunction f = fn[d];
            if (f instanceof LuaClosure c) {
                Prototype p = c.p;
                String src = p.source == null ? "?" : p.source.tojstring();
                int pc = d == depth - 1 ? topPc : pcs[d];
                int line = p.lineinfo != null && pc < p.lineinfo.length ? p.lineinfo[pc] : -1;
                sb.append(src).append(':').append(line).append(": in function <").append(src).append(':')
                        .append(p.linedefined).append('>');
            } else {
                sb.append("[Java]: in function '").append(f == null ? "?" : f.name()).append('\'');
            }
        }
        return sb.toString();
    }
}

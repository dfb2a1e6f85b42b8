package dev.flotilla.node.sim;

import org.luaj.vm2.Buffer;
import org.luaj.vm2.Globals;
import org.luaj.vm2.Lua;
import org.luaj.vm2.LuaClosure;
import org.luaj.vm2.LuaError;
import org.luaj.vm2.LuaFunction;
import org.luaj.vm2.LuaString;
import org.luaj.vm2.LuaThread;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Prototype;
import org.luaj.vm2.Varargs;
import org.luaj.vm2.lib.DebugLib;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The shard's hook into LuaJ's interpreter. LuaJ calls a Globals' debuglib on every instruction, call
 * and return of a closure made with those Globals; we install this instead of the real debug library
 * (which scripts never see) to count instructions against the handler's budget, cap call depth, refuse
 * '..' chains that would build an oversized string, and keep a light call stack for tracebacks.
 * Violations are {@link SandboxViolation}s, which pcall cannot catch.
 *
 * <p>Code compiled to JVM classes ({@link JvmCompiler}) has no per-instruction hook; it calls the
 * public hooks at the end of this class instead: {@link #enter} and {@link #leave} per call,
 * {@link #loop} per loop iteration, {@link #unwind} when an error leaves a function, {@link #concat}
 * for {@code ..}. They are public only because the generated classes live in their own class loaders.
 */
public final class InstructionMeter extends DebugLib {
    /** Instructions a traceback of compiled code costs: walking the Java stack is not free. */
    private static final int TRACEBACK_COST = 200;
    private static final VarHandle FILELINE;
    private static final VarHandle TRACEBACK;
    private static final VarHandle BUFFER_LENGTH;
    private static final VarHandle BUFFER_VALUE;
    private static final VarHandle CALL;
    private static final VarHandle REMAINING;
    /** What the memory watch sets the budget to when a call allocates too much (see {@link #interrupt}). */
    private static final long INTERRUPTED = Long.MIN_VALUE / 2;

    static {
        try {
            MethodHandles.Lookup err = MethodHandles.privateLookupIn(LuaError.class, MethodHandles.lookup());
            FILELINE = err.findVarHandle(LuaError.class, "fileline", String.class);
            TRACEBACK = err.findVarHandle(LuaError.class, "traceback", String.class);
            MethodHandles.Lookup buf = MethodHandles.privateLookupIn(Buffer.class, MethodHandles.lookup());
            BUFFER_LENGTH = buf.findVarHandle(Buffer.class, "length", int.class);
            BUFFER_VALUE = buf.findVarHandle(Buffer.class, "value", LuaValue.class);
            MethodHandles.Lookup self = MethodHandles.lookup();
            CALL = self.findVarHandle(InstructionMeter.class, "call", long.class);
            REMAINING = self.findVarHandle(InstructionMeter.class, "remaining", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int maxDepth;
    private final int maxStringBytes;
    private final long maxBuiltBytes;
    private long built;
    private SandboxViolation pending;
    private long remaining;
    private long budget;
    private int depth;
    /** Handler calls begun; the memory watch reads it from its own thread to tell one call from the next. */
    private long call;
    private volatile long interruptedCall = -1;
    private volatile long interruptedBytes;
    private volatile long interruptedLimit;
    private volatile long suspectCall = -1;
    /** VMs this meter stopped for a call's allocation (read by stats from any thread). */
    volatile long allocationStops;
    private LuaFunction[] fn;
    private LuaValue[][] stacks;
    private int[] pcs;
    // The top frame, cached so the per-instruction hook touches as little memory as possible.
    private int[] topCode;
    private LuaValue[] topStack;
    private int topPc;
    /** The shard's globals: their running thread holds xpcall's message handler. */
    Globals globals;

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
        CALL.setOpaque(this, call + 1);
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
            exhausted();
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

    private void exhausted() {
        if (pending != null) {
            throw pending;
        }
        if (remaining < INTERRUPTED / 2) {
            if (interruptedCall == call) {
                allocationStops++;
                throw violate(new SandboxViolation("allocation limit exceeded: this handler call allocated "
                        + interruptedBytes + " bytes (limit " + interruptedLimit + " per call)", traceback(0)));
            }
            remaining = budget; // a late interruption meant for a call that had already ended
            return;
        }
        throw violate(new SandboxViolation("instruction budget exhausted (" + budget
                + " instructions per handler call)", traceback(0)));
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
        checkConcat(total, total);
    }

    private void checkConcat(long total, long added) {
        if (total > maxStringBytes) {
            throw violate(new SandboxViolation("string too large: '..' would build " + total + " bytes (limit "
                    + maxStringBytes + ")", traceback(0)));
        }
        charge(added, "'..'");
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

    /** The number of the handler call running or last run, read from the memory watch's thread. */
    long currentCall() {
        return (long) CALL.getOpaque(this);
    }

    /**
     * From the memory watch's thread: handler call {@code n} has allocated {@code bytes}, over the
     * limit. Its next instruction stops its VM. If call n has ended meanwhile, the next call sees the
     * interruption is not its own and goes on with a fresh budget.
     */
    void interrupt(long n, long bytes, long limit) {
        interruptedBytes = bytes;
        interruptedLimit = limit;
        interruptedCall = n;
        REMAINING.setOpaque(this, INTERRUPTED);
    }

    /** From the memory watch's thread: call {@code n} allocated a lot; its VM's heap should be measured. */
    void suspect(long n) {
        suspectCall = n;
    }

    /** Whether the memory watch found the call that just ended allocating a lot. */
    boolean suspected() {
        return suspectCall == call;
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
        return traceback(null);
    }

    /**
     * The traceback of the running handler. A compiled function's current line comes from the Java
     * stack (luajc writes Lua line numbers into its classes): {@code stack} when an error brought one,
     * else the stack here.
     */
    private String traceback(StackTraceElement[] stack) {
        StringBuilder sb = new StringBuilder("stack traceback:");
        int cursor = 0;
        for (int d = depth - 1; d >= 0; d--) {
            sb.append("\n\t");
            LuaFunction f = fn[d];
            Prototype compiled = compiledPrototype(f);
            if (compiled != null) {
                if (stack == null) {
                    stack = new Throwable().getStackTrace();
                }
                String cls = f.getClass().getName();
                int line = -1;
                for (; cursor < stack.length; cursor++) {
                    if (stack[cursor].getClassName().equals(cls)) {
                        line = stack[cursor++].getLineNumber();
                        break;
                    }
                }
                String src = compiled.source == null ? "?" : compiled.source.tojstring();
                sb.append(src).append(':').append(line).append(": in function <").append(src).append(':')
                        .append(compiled.linedefined).append('>');
            } else if (f instanceof LuaClosure c) {
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

    private static Prototype compiledPrototype(LuaFunction f) {
        return f != null && f.getClass().getClassLoader() instanceof JvmCompiler.ProgramLoader l
                ? l.prototype(f.getClass().getName()) : null;
    }

    private static int lineOf(StackTraceElement[] stack, LuaFunction f) {
        String cls = f.getClass().getName();
        for (StackTraceElement e : stack) {
            if (e.getClassName().equals(cls)) {
                return e.getLineNumber();
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------ hooks for compiled code

    /** A compiled function starts: charge its instructions and push its frame. */
    public void enter(LuaFunction f, int instructions) {
        if ((remaining -= instructions) < 0) {
            exhausted();
        }
        int d = depth;
        if (d >= maxDepth || d == fn.length) {
            push(f, null); // the depth limit, or room to grow: the general path
            return;
        }
        if (d > 0) {
            pcs[d - 1] = topPc;
        }
        fn[d] = f;
        depth = d + 1;
        topCode = null;
        topStack = null;
    }

    /** A compiled function returns. */
    public void leave() {
        onReturn();
    }

    /** A compiled loop goes round again: charge the body's instructions. */
    public void loop(int instructions) {
        if ((remaining -= instructions) < 0) {
            exhausted();
        }
    }

    /**
     * An error leaves a compiled function: give a Lua error the position and traceback the
     * interpreter would (or run xpcall's message handler), wrap a Java exception as a Lua error as the
     * interpreter does, then pop the frame. Returns what to throw on.
     */
    public static Throwable unwind(Throwable t, LuaFunction f, InstructionMeter m) {
        try {
            if (t instanceof LuaError le) {
                if (TRACEBACK.get(le) == null) {
                    m.position(le, le.getStackTrace(), f);
                }
                return le;
            }
            if (t instanceof RuntimeException e) {
                LuaError le = new LuaError(e);
                m.position(le, e.getStackTrace(), f);
                return le;
            }
            return t;
        } finally {
            m.onReturn();
        }
    }

    private void position(LuaError le, StackTraceElement[] stack, LuaFunction f) {
        Prototype p = compiledPrototype(f);
        String src = p == null || p.source == null ? "?" : p.source.tojstring();
        int line = lineOf(stack, f);
        FILELINE.set(le, src + ":" + (line < 0 ? "?" : String.valueOf(line)));
        remaining -= TRACEBACK_COST;
        String message = le.getMessage();
        LuaThread running = globals == null ? null : globals.running;
        LuaValue handler = running == null ? null : running.errorfunc;
        if (handler == null) {
            TRACEBACK.set(le, message + "\n" + traceback(stack));
            return;
        }
        // xpcall's message handler runs where the error happened, once (as LuaClosure does it).
        running.errorfunc = null;
        try {
            TRACEBACK.set(le, handler.call(LuaValue.valueOf(message)).tojstring());
        } catch (RuntimeException e) { // a Lua error in the handler; sandbox violations go on up
            TRACEBACK.set(le, "error in error handling");
        } finally {
            running.errorfunc = handler;
        }
    }

    /** {@code a .. b} in compiled code, refused before it builds a string over the cap. */
    public static LuaValue concat(LuaValue a, LuaValue b) {
        long added = sizeOf(a) + sizeOf(b);
        Shard.activeMeter().checkConcat(added, added);
        return a.concat(b);
    }

    /** {@code a .. (rest of a chain)} in compiled code. */
    public static Buffer concat(LuaValue a, Buffer b) {
        long added = sizeOf(a);
        LuaValue held = (LuaValue) BUFFER_VALUE.get(b);
        long total = added + (int) BUFFER_LENGTH.get(b) + (held == null ? 0 : sizeOf(held));
        Shard.activeMeter().checkConcat(total, added);
        return a.concat(b);
    }

    private static long sizeOf(LuaValue v) {
        return v instanceof LuaString s ? s.m_length : 32;
    }
}

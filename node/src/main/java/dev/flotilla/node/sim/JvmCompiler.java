package dev.flotilla.node.sim;

import org.luaj.vm2.LocVars;
import org.luaj.vm2.Lua;
import org.luaj.vm2.Prototype;
import org.luaj.vm2.luajc.JavaGen;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.FieldNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TryCatchBlockNode;
import org.objectweb.asm.tree.VarInsnNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Compiles a program to JVM classes, one per Lua function, so a handler call runs as JIT-compiled Java
 * instead of in LuaJ's interpreter (about four times cheaper per call; docs/decisions.md). LuaJ's luajc
 * ({@link JavaGen}) writes the classes; we then rewrite each so the sandbox holds without the
 * interpreter's per-instruction hook:
 * <ul>
 *   <li>every function object holds its shard's meter in a field, handed on to the closures it makes;</li>
 *   <li>on entry a function charges its instruction count to the handler call's budget and pushes a
 *       frame on the {@link InstructionMeter} (call depth, tracebacks); each return pops it, and a
 *       catch-all pops it when an error passes, first giving a Lua error its position and traceback as
 *       the interpreter would;</li>
 *   <li>every backward jump (one loop iteration) charges the loop body's share of the function's
 *       instructions, so a loop runs out of budget as it would interpreted;</li>
 *   <li>{@code ..} goes through {@link InstructionMeter#concat}, which refuses a string over the cap
 *       before building it.</li>
 * </ul>
 * Each program gets its own class loader, so its classes are unloaded with the last VM that runs it.
 * A program luajc cannot compile (it has limits the interpreter has not) runs interpreted instead.
 */
final class JvmCompiler {
    private static final Logger LOG = LoggerFactory.getLogger(JvmCompiler.class);
    private static final String METER = "dev/flotilla/node/sim/InstructionMeter";
    private static final String METER_DESC = "L" + METER + ";";
    /** The field of every generated function that holds its shard's meter. */
    static final String METER_FIELD = "meter";
    private static final String FUNCTION = "org/luaj/vm2/LuaFunction";
    private static final String VALUE = "org/luaj/vm2/LuaValue";

    private JvmCompiler() {
    }

    /** The class of the program's main chunk, or null when it must run interpreted. */
    static Class<?> compile(String name, Prototype main) {
        try {
            String className = "lua_" + name.replaceAll("[^A-Za-z0-9_]", "_");
            Prototype padded = padded(main);
            JavaGen gen = new JavaGen(padded, className, name, false);
            ProgramLoader loader = new ProgramLoader();
            add(loader, gen, padded);
            return loader.loadClass(gen.classname);
        } catch (Throwable e) { // luajc or the rewrite failed on this program: the interpreter runs it
            if (e instanceof VirtualMachineError vm && !(e instanceof StackOverflowError)) {
                throw vm;
            }
            LOG.info("program '{}' runs in the interpreter: it could not be compiled to JVM code ({})", name, e.toString());
            return null;
        }
    }

    /**
     * A copy of the prototype (and its functions') with a no-op jump in front. luajc puts the target
     * of a jump back to the first instruction before its argument-unpacking prologue, so a function
     * whose first statement is a loop (a {@code while} at the top) would unpack its arguments again on
     * every iteration and see nil. Lua's jumps are relative, so shifting the code by one keeps every
     * target, and nothing jumps to the new first instruction.
     */
    static Prototype padded(Prototype p) {
        Prototype q = new Prototype();
        q.k = p.k;
        q.upvalues = p.upvalues;
        q.source = p.source;
        q.linedefined = p.linedefined;
        q.lastlinedefined = p.lastlinedefined;
        q.numparams = p.numparams;
        q.is_vararg = p.is_vararg;
        q.maxstacksize = p.maxstacksize;
        q.code = new int[p.code.length + 1];
        q.code[0] = Lua.OP_JMP | ((Lua.MAXARG_sBx) << Lua.POS_Bx); // JMP with offset 0: to the next instruction
        System.arraycopy(p.code, 0, q.code, 1, p.code.length);
        if (p.lineinfo != null) {
            q.lineinfo = new int[p.lineinfo.length + 1];
            q.lineinfo[0] = p.lineinfo.length > 0 ? p.lineinfo[0] : p.linedefined;
            System.arraycopy(p.lineinfo, 0, q.lineinfo, 1, p.lineinfo.length);
        }
        if (p.locvars != null) {
            q.locvars = new LocVars[p.locvars.length];
            for (int i = 0; i < p.locvars.length; i++) {
                LocVars v = p.locvars[i];
                q.locvars[i] = new LocVars(v.varname, v.startpc + 1, v.endpc + 1);
            }
        }
        q.p = new Prototype[p.p.length];
        for (int i = 0; i < p.p.length; i++) {
            q.p[i] = padded(p.p[i]);
        }
        return q;
    }

    private static void add(ProgramLoader loader, JavaGen gen, Prototype p) {
        loader.add(gen.classname, instrument(gen.bytecode, p), p);
        JavaGen[] inners = gen.inners == null ? new JavaGen[0] : gen.inners;
        if (inners.length != p.p.length) {
            throw new IllegalStateException("luajc made " + inners.length + " inner classes for " + p.p.length + " functions");
        }
        for (int i = 0; i < inners.length; i++) {
            add(loader, inners[i], p.p[i]);
        }
    }

    private static byte[] instrument(byte[] bytecode, Prototype p) {
        ClassNode cls = new ClassNode();
        new ClassReader(bytecode).accept(cls, 0);
        // Every function object carries its shard's meter, handed on to each closure it creates, so a
        // call finds its meter in a field rather than a thread-local.
        cls.fields.add(new FieldNode(Opcodes.ACC_PUBLIC, METER_FIELD, METER_DESC, null, null));
        for (MethodNode m : cls.methods) {
            if (!m.name.startsWith("<") && !m.name.startsWith("initupvalue") && (m.access & Opcodes.ACC_STATIC) == 0) {
                instrument(cls.name, m, p.code.length - 1); // not counting the padding jump
            }
        }
        // luajc writes class files of version 45, which need no stack map frames: computing maxs is enough.
        ClassWriter out = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cls.accept(out);
        return out.toByteArray();
    }

    private static void instrument(String owner, MethodNode m, int luaInstructions) {
        InsnList code = m.instructions;
        Map<LabelNode, Integer> at = new IdentityHashMap<>();
        int n = 0;
        for (AbstractInsnNode i = code.getFirst(); i != null; i = i.getNext()) {
            if (i instanceof LabelNode l) {
                at.put(l, n);
            } else if (i.getOpcode() >= 0) {
                n++;
            }
        }
        double luaPerJvm = n == 0 ? 0 : luaInstructions / (double) n;
        int meter = m.maxLocals++;
        String program = owner.replaceAll("\\$.*", ""); // the main chunk's class: its functions' classes start so

        int pos = 0;
        for (AbstractInsnNode i = code.getFirst(); i != null; ) {
            AbstractInsnNode next = i.getNext();
            int op = i.getOpcode();
            if (op >= 0) {
                if (i instanceof JumpInsnNode j && at.get(j.label) <= pos) {
                    int body = Math.max(1, (int) Math.round((pos - at.get(j.label)) * luaPerJvm));
                    InsnList charge = new InsnList();
                    charge.add(new VarInsnNode(Opcodes.ALOAD, meter));
                    charge.add(new LdcInsnNode(body));
                    charge.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, METER, "loop", "(I)V", false));
                    code.insertBefore(i, charge);
                } else if (op >= Opcodes.IRETURN && op <= Opcodes.RETURN) {
                    InsnList leave = new InsnList();
                    leave.add(new VarInsnNode(Opcodes.ALOAD, meter));
                    leave.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, METER, "leave", "()V", false));
                    code.insertBefore(i, leave);
                } else if (i instanceof MethodInsnNode init && op == Opcodes.INVOKESPECIAL
                        && init.name.equals("<init>") && init.owner.startsWith(program)) {
                    // a closure of this program was made: hand it this function's meter
                    InsnList hand = new InsnList();
                    hand.add(new InsnNode(Opcodes.DUP));
                    hand.add(new VarInsnNode(Opcodes.ALOAD, meter));
                    hand.add(new FieldInsnNode(Opcodes.PUTFIELD, init.owner, METER_FIELD, METER_DESC));
                    code.insert(init, hand);
                } else if (i instanceof MethodInsnNode call && op == Opcodes.INVOKEVIRTUAL
                        && call.owner.equals(VALUE) && call.name.equals("concat")) {
                    // a.concat(b) becomes InstructionMeter.concat(a, b): same stack, same result type
                    String desc = "(L" + VALUE + ";" + call.desc.substring(1);
                    code.set(call, new MethodInsnNode(Opcodes.INVOKESTATIC, METER, "concat", desc, false));
                }
                pos++;
            }
            i = next;
        }

        LabelNode start = new LabelNode();
        InsnList enter = new InsnList();
        enter.add(new VarInsnNode(Opcodes.ALOAD, 0));
        enter.add(new FieldInsnNode(Opcodes.GETFIELD, owner, METER_FIELD, METER_DESC));
        enter.add(new InsnNode(Opcodes.DUP));
        enter.add(new VarInsnNode(Opcodes.ASTORE, meter));
        enter.add(new VarInsnNode(Opcodes.ALOAD, 0));
        enter.add(new LdcInsnNode(Math.max(1, luaInstructions)));
        enter.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, METER, "enter", "(L" + FUNCTION + ";I)V", false));
        enter.add(start);
        code.insert(enter);

        LabelNode end = new LabelNode();
        LabelNode handler = new LabelNode();
        code.add(end);
        code.add(handler);
        code.add(new VarInsnNode(Opcodes.ALOAD, 0));
        code.add(new VarInsnNode(Opcodes.ALOAD, meter));
        code.add(new MethodInsnNode(Opcodes.INVOKESTATIC, METER, "unwind",
                "(Ljava/lang/Throwable;L" + FUNCTION + ";" + METER_DESC + ")Ljava/lang/Throwable;", false));
        code.add(new InsnNode(Opcodes.ATHROW));
        m.tryCatchBlocks.add(new TryCatchBlockNode(start, end, handler, null));
    }

    /** Holds one program's classes and the prototype each was made from (for tracebacks). */
    static final class ProgramLoader extends ClassLoader {
        private final Map<String, byte[]> pending = new HashMap<>();
        private final Map<String, Prototype> prototypes = new HashMap<>();

        ProgramLoader() {
            super(JvmCompiler.class.getClassLoader());
        }

        void add(String name, byte[] bytes, Prototype p) {
            pending.put(name, bytes);
            prototypes.put(name, p);
        }

        Prototype prototype(String className) {
            return prototypes.get(className);
        }

        @Override
        protected synchronized Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] b = pending.remove(name);
            if (b == null) {
                throw new ClassNotFoundException(name);
            }
            return defineClass(name, b, 0, b.length);
        }
    }
}

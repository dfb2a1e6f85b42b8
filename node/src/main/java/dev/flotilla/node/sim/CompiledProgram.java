package dev.flotilla.node.sim;

import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaClosure;
import org.luaj.vm2.LuaError;
import org.luaj.vm2.LuaFunction;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Prototype;
import org.luaj.vm2.compiler.LuaC;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;

/**
 * A program compiled once: to a LuaJ prototype, and from it to JVM classes ({@link JvmCompiler}).
 * Both are immutable at run time, so every VM on every shard runs functions made from the same ones;
 * each VM's main chunk gets the VM's own environment.
 *
 * @param jvmMain  a constructor of the compiled main chunk, or null when the program runs interpreted
 * @param jvmMeter the setter of the compiled main chunk's meter field
 */
record CompiledProgram(String name, Prototype prototype, MethodHandle jvmMain, MethodHandle jvmMeter) {

    /** Compiles source text; refuses precompiled bytecode (it can break the interpreter's invariants). */
    static CompiledProgram compile(String name, String source) {
        if (!source.isEmpty() && source.charAt(0) == 27) {
            throw new IllegalArgumentException("program '" + name + "' is precompiled bytecode; give Lua source text");
        }
        Prototype p;
        try {
            p = LuaC.instance.compile(new ByteArrayInputStream(source.getBytes(StandardCharsets.UTF_8)), name);
        } catch (LuaError e) {
            throw new IllegalArgumentException("program '" + name + "' does not compile: " + e.getMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("program '" + name + "' could not be read: " + e.getMessage());
        }
        Class<?> main = JvmCompiler.compile(name, p);
        MethodHandle ctor = null;
        MethodHandle meter = null;
        if (main != null) {
            try {
                ctor = MethodHandles.publicLookup().findConstructor(main, MethodType.methodType(void.class))
                        .asType(MethodType.methodType(LuaFunction.class));
                meter = MethodHandles.publicLookup().findSetter(main, JvmCompiler.METER_FIELD, InstructionMeter.class)
                        .asType(MethodType.methodType(void.class, LuaFunction.class, InstructionMeter.class));
            } catch (ReflectiveOperationException e) {
                ctor = null; // cannot happen for a luajc class; the interpreter runs it if it does
            }
        }
        return new CompiledProgram(name, p, ctor, meter);
    }

    /** The program's main chunk for one VM, over the VM's environment, metered by its shard's meter. */
    LuaFunction instantiate(LuaValue env, Globals globals, InstructionMeter meter, boolean compiled) {
        if (compiled && jvmMain != null) {
            LuaFunction f;
            try {
                f = (LuaFunction) jvmMain.invokeExact();
                jvmMeter.invokeExact(f, meter);
            } catch (Throwable e) {
                throw new IllegalStateException("compiled program '" + name + "' could not be instantiated", e);
            }
            f.initupvalue1(env);
            return f;
        }
        LuaClosure chunk = new LuaClosure(prototype, globals);
        if (chunk.upValues.length > 0) {
            chunk.upValues[0].setValue(env);
        }
        return chunk;
    }
}

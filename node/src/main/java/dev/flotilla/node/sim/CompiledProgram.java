package dev.flotilla.node.sim;

import org.luaj.vm2.LuaError;
import org.luaj.vm2.Prototype;
import org.luaj.vm2.compiler.LuaC;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A program compiled once to a LuaJ prototype. Prototypes are immutable at run time, so every VM on
 * every shard runs closures over the same one; each closure gets its VM's own environment.
 */
record CompiledProgram(String name, Prototype prototype) {

    /** Compiles source text; refuses precompiled bytecode (it can break the interpreter's invariants). */
    static CompiledProgram compile(String name, String source) {
        if (!source.isEmpty() && source.charAt(0) == 27) {
            throw new IllegalArgumentException("program '" + name + "' is precompiled bytecode; give Lua source text");
        }
        try {
            Prototype p = LuaC.instance.compile(
                    new ByteArrayInputStream(source.getBytes(StandardCharsets.UTF_8)), name);
            return new CompiledProgram(name, p);
        } catch (LuaError e) {
            throw new IllegalArgumentException("program '" + name + "' does not compile: " + e.getMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("program '" + name + "' could not be read: " + e.getMessage());
        }
    }
}

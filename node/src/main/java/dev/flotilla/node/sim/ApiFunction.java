package dev.flotilla.node.sim;

import org.luaj.vm2.Varargs;
import org.luaj.vm2.lib.VarArgFunction;

import java.util.function.Function;

/** A Lua-callable Java function with a name (which tracebacks and error messages show). */
final class ApiFunction extends VarArgFunction {
    private final Function<Varargs, Varargs> body;

    ApiFunction(String name, Function<Varargs, Varargs> body) {
        this.name = name;
        this.body = body;
    }

    @Override
    public Varargs invoke(Varargs args) {
        return body.apply(args);
    }
}

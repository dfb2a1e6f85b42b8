package dev.flotilla.node.sim;

/** os.exit(code) unwinding a handler; an Error so pcall cannot swallow it. */
final class ProcessExit extends Error {
    final int code;

    ProcessExit(int code) {
        super("exit " + code, null, false, false);
        this.code = code;
    }
}

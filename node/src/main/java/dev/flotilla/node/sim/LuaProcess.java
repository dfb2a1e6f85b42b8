package dev.flotilla.node.sim;

import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;

/** One Lua process of a VM: its handler table (ctx), its handlers and how it wants to be woken. */
final class LuaProcess {
    static final byte STARTING = 0;
    static final byte RUNNING = 1;   // on_tick every tick
    static final byte SLEEPING = 2;  // on_tick again at wakeAt
    static final byte WAITING = 3;   // on_tick only after a packet says so
    static final byte EXITED = 4;
    static final byte FAILED = 5;
    static final byte KILLED = 6;

    final Vm vm;
    final int pid;
    final CompiledProgram program;
    LuaTable ctx;
    LuaValue onTick;
    LuaValue onPacket;
    LuaValue onTimer;
    byte state = STARTING;
    long wakeAt;
    int exitCode;
    String lastError;

    LuaProcess(Vm vm, int pid, CompiledProgram program) {
        this.vm = vm;
        this.pid = pid;
        this.program = program;
    }

    boolean alive() {
        return state <= WAITING;
    }

    String stateName() {
        return switch (state) {
            case STARTING -> "starting";
            case RUNNING -> "running";
            case SLEEPING -> "sleeping";
            case WAITING -> "waiting";
            case EXITED -> "exited";
            case FAILED -> "failed";
            default -> "killed";
        };
    }
}

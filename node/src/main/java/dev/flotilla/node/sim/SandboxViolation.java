package dev.flotilla.node.sim;

/**
 * Thrown inside a handler when a VM breaks a sandbox limit. It is an {@link Error}, not a LuaError or
 * an Exception, so Lua's pcall cannot catch it (LuaJ's pcall catches only those two); the runtime
 * catches it around the handler and stops the VM with {@link #getMessage()} as the reason.
 */
public final class SandboxViolation extends Error {
    private final String traceback;

    public SandboxViolation(String reason, String traceback) {
        super(reason, null, false, false);
        this.traceback = traceback;
    }

    public String traceback() {
        return traceback;
    }
}

package dev.flotilla.node.sim;

/** A Lua program a VM can run: a name (what os.spawn takes) and its source text. */
public record SimProgram(String name, String source) {
    public SimProgram {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("programs[].name is empty; give each program a name");
        }
        if (source == null) {
            throw new IllegalArgumentException("programs[" + name + "].source is missing; give the Lua text");
        }
    }
}

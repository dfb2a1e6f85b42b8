package dev.flotilla.node.sim;

import java.util.concurrent.ConcurrentHashMap;

/** Compiles each distinct (name, source) once for the whole node; a million VMs share one prototype. */
final class ProgramCache {
    private static final int MAX_ENTRIES = 10_000;
    private static final ConcurrentHashMap<String, CompiledProgram> CACHE = new ConcurrentHashMap<>();

    private ProgramCache() {
    }

    static CompiledProgram compile(String name, String source) {
        String key = name + '\0' + source;
        CompiledProgram p = CACHE.get(key);
        if (p != null) {
            return p;
        }
        p = CompiledProgram.compile(name, source);
        if (CACHE.size() >= MAX_ENTRIES) {
            CACHE.clear(); // programs in use stay referenced by their VMs; only sharing is lost
        }
        CompiledProgram raced = CACHE.putIfAbsent(key, p);
        return raced != null ? raced : p;
    }
}

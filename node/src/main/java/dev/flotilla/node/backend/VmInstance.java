package dev.flotilla.node.backend;

import dev.flotilla.proto.VmSpec;

/** What a backend needs to know of one VM: its validated name, spec, network identity and fencing epoch. */
public record VmInstance(String name, VmSpec spec, String ip, String mac, long epoch) {}

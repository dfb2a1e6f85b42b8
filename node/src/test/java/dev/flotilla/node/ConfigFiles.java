package dev.flotilla.node;

import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a node config file into a test's directory and reads it as a node would (load, then validate). */
final class ConfigFiles {
    private ConfigFiles() {
    }

    static NodeConfig load(Path dir, String yaml) throws Exception {
        Path f = dir.resolve("node.yaml");
        Files.writeString(f, yaml);
        NodeConfig c = NodeConfig.load(f);
        c.validate();
        return c;
    }
}

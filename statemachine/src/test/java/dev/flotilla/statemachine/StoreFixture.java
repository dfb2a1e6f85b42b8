package dev.flotilla.statemachine;

import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import java.io.IOException;
import java.nio.file.Path;

/** A real RocksDB registry in a temp dir with a log index that counts up, for tests. */
final class StoreFixture implements AutoCloseable {
    final RegistryStore store;
    long index;

    StoreFixture(Path dir, String subnet) throws IOException {
        store = RegistryStore.open(dir, Subnet.parse(subnet), false);
        index = Math.max(0, store.applied().index());
    }

    StoreFixture(Path dir) throws IOException {
        this(dir, "10.0.0.0/16");
    }

    CommandResult apply(Command c) throws IOException {
        index++;
        return store.apply(1, index, c).orElseThrow(() -> new AssertionError("index " + index + " was skipped"))
                .result();
    }

    @Override
    public void close() {
        store.close();
    }
}

package dev.flotilla.chaos.nemesis;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/** The faults of one run in the order they began, each opened and closed with a timestamp. */
public final class FaultTimeline {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final LongSupplier clock;
    private final List<FaultWindow> windows = new ArrayList<>();

    /** @param clock nanoseconds since the run began, the same clock the history uses */
    public FaultTimeline(LongSupplier clock) {
        this.clock = clock;
    }

    /** Opens a fault window now and returns its id for {@link #end}. */
    public synchronized long begin(String kind, String targets, String detail) {
        long id = windows.size();
        windows.add(new FaultWindow(id, kind, targets, clock.getAsLong(), -1, detail));
        return id;
    }

    /** Fills in what an injected fault hit, once the nemesis has chosen. */
    public synchronized void retarget(long id, String targets, String detail) {
        FaultWindow w = windows.get((int) id);
        windows.set((int) id, new FaultWindow(w.id(), w.kind(), targets, w.startNanos(), w.endNanos(), detail));
    }

    /** Closes the window now. */
    public synchronized void end(long id, String moreDetail) {
        FaultWindow w = windows.get((int) id);
        if (!w.ended()) {
            windows.set((int) id, w.endedAt(clock.getAsLong(), moreDetail));
        }
    }

    /** Closes every window still open, e.g. when the final heal runs. */
    public synchronized void endAll(String why) {
        long now = clock.getAsLong();
        for (int i = 0; i < windows.size(); i++) {
            if (!windows.get(i).ended()) {
                windows.set(i, windows.get(i).endedAt(now, why));
            }
        }
    }

    /** A copy of the windows so far. */
    public synchronized List<FaultWindow> windows() {
        return List.copyOf(windows);
    }

    /** Writes faults.jsonl: one window per line. */
    public void writeJsonLines(Path file) {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (FaultWindow f : windows()) {
                w.write(JSON.writeValueAsString(f));
                w.newLine();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the fault timeline to " + file + ": " + e.getMessage(), e);
        }
    }
}

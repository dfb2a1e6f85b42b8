package dev.flotilla.chaos.history;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** An immutable list of completed operations, stored as one JSON line per op. */
public record History(List<Op> ops) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    public History {
        ops = List.copyOf(ops);
    }

    /** The ops sorted by invocation time, as the report shows them. */
    public List<Op> byInvocation() {
        List<Op> sorted = new ArrayList<>(ops);
        sorted.sort(Comparator.comparingLong(Op::invokeNanos).thenComparingLong(Op::id));
        return sorted;
    }

    /** Counts ops with the given outcome. */
    public long count(Outcome outcome) {
        return ops.stream().filter(o -> o.outcome() == outcome).count();
    }

    /** Writes history.jsonl: one op per line, in invocation order. */
    public void writeJsonLines(Path file) {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Op op : byInvocation()) {
                w.write(JSON.writeValueAsString(op));
                w.newLine();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the history to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads a history written by {@link #writeJsonLines}, e.g. to re-check a kept failing run. */
    public static History readJsonLines(Path file) {
        List<Op> ops = new ArrayList<>();
        try {
            int line = 0;
            for (String s : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                line++;
                if (s.isBlank()) {
                    continue;
                }
                try {
                    ops.add(JSON.readValue(s, Op.class));
                } catch (IOException e) {
                    throw new IllegalArgumentException(file + ":" + line + " is not an op: " + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the history " + file + ": " + e.getMessage(), e);
        }
        return new History(ops);
    }
}

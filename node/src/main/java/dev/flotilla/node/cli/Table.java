package dev.flotilla.node.cli;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table with aligned columns, for the CLI's default output. */
final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
        rows.add(header);
    }

    Table row(Object... cells) {
        String[] r = new String[cells.length];
        for (int i = 0; i < cells.length; i++) r[i] = cells[i] == null ? "" : cells[i].toString();
        rows.add(r);
        return this;
    }

    @Override
    public String toString() {
        int cols = rows.get(0).length;
        int[] width = new int[cols];
        for (String[] r : rows) for (int i = 0; i < cols && i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            for (int i = 0; i < cols; i++) {
                String cell = i < r.length ? r[i] : "";
                sb.append(cell);
                if (i < cols - 1) sb.append(" ".repeat(width[i] - cell.length() + 2));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}

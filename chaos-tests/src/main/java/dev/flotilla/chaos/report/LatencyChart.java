package dev.flotilla.chaos.report;

import dev.flotilla.chaos.history.Op;
import dev.flotilla.chaos.history.Outcome;
import dev.flotilla.chaos.nemesis.FaultWindow;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Draws a run as SVG, by hand: latency of every op over time (log scale, coloured by outcome) with
 * the fault windows shaded and labelled, and ops completed per second beneath, so a reader sees what
 * each fault did to the clients.
 */
public final class LatencyChart {
    private static final int WIDTH = 1400;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 40;
    private static final int LAT_HEIGHT = 360;
    private static final int GAP = 60;
    private static final int TPUT_HEIGHT = 150;
    private static final int BOTTOM = 70;
    private static final String OK = "#2a9d3f";
    private static final String FAIL = "#e08a00";
    private static final String UNKNOWN = "#d62728";
    private static final String[] FAULT_COLOURS = {
        "#4e79a7", "#9c755f", "#b07aa1", "#76b7b2", "#edc948", "#59a14f", "#ff9da7", "#bab0ac", "#f28e2b"
    };

    private LatencyChart() {
    }

    /** The SVG document for these ops and faults over a run of {@code durationNanos}. */
    public static String svg(String title, List<Op> ops, List<FaultWindow> faults, long durationNanos) {
        long end = Math.max(durationNanos, 1_000_000_000L);
        for (Op op : ops) {
            end = Math.max(end, op.completeNanos());
        }
        double seconds = end / 1e9;
        double plotW = WIDTH - LEFT - RIGHT;
        int height = TOP + LAT_HEIGHT + GAP + TPUT_HEIGHT + BOTTOM;
        double maxLatMs = 10;
        for (Op op : ops) {
            maxLatMs = Math.max(maxLatMs, op.latencyNanos() / 1e6);
        }
        double logMin = 0; // 1 ms
        double logMax = Math.ceil(Math.log10(maxLatMs));
        int latBottom = TOP + LAT_HEIGHT;
        int tputTop = latBottom + GAP;
        int tputBottom = tputTop + TPUT_HEIGHT;

        StringBuilder s = new StringBuilder(64 * ops.size() + 4096);
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">%n", WIDTH, height, WIDTH, height));
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" font-size=\"14\" font-weight=\"bold\">%s</text>%n",
                LEFT, escape(title)));

        // Fault windows, shaded over both panels, labels staggered in rows so overlaps stay readable.
        Map<String, String> colourOfKind = new LinkedHashMap<>();
        List<Double> rowEnds = new ArrayList<>();
        for (FaultWindow f : faults) {
            String colour = colourOfKind.computeIfAbsent(f.kind(),
                    k -> FAULT_COLOURS[colourOfKind.size() % FAULT_COLOURS.length]);
            double x0 = LEFT + plotW * f.startNanos() / end;
            double x1 = LEFT + plotW * (f.ended() ? f.endNanos() : end) / end;
            double w = Math.max(1.5, x1 - x0);
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" "
                    + "fill-opacity=\"0.16\"><title>%s</title></rect>%n", x0, TOP, w, tputBottom - TOP, colour,
                    escape(f.kind() + " " + f.targets() + " " + ms(f.startNanos()) + "-"
                            + (f.ended() ? ms(f.endNanos()) : "end") + (f.detail() == null ? "" : " " + f.detail()))));
            String label = f.kind() + (f.targets() == null || f.targets().isBlank() ? "" : " " + f.targets());
            double labelW = 6.2 * label.length();
            int row = 0;
            while (row < rowEnds.size() && rowEnds.get(row) > x0) {
                row++;
            }
            if (row == rowEnds.size()) {
                rowEnds.add(0.0);
            }
            rowEnds.set(row, x0 + labelW + 4);
            int labelY = TOP + 12 + 12 * (row % 6);
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" fill=\"%s\" font-size=\"10\">%s</text>%n",
                    x0 + 2, labelY, colour, escape(label)));
        }

        // Latency panel: axes, decades, and one dot per op at its invocation time.
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#444\"/>%n", LEFT, TOP, plotW, LAT_HEIGHT));
        for (int d = (int) logMin; d <= (int) logMax; d++) {
            double y = latBottom - LAT_HEIGHT * (d - logMin) / (logMax - logMin);
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                    LEFT, LEFT + plotW, y, y));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    LEFT - 4, y + 4, latencyLabel(Math.pow(10, d))));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
                + "text-anchor=\"middle\">latency (log)</text>%n", TOP + LAT_HEIGHT / 2, TOP + LAT_HEIGHT / 2));
        for (Outcome outcome : new Outcome[] {Outcome.OK, Outcome.FAIL, Outcome.UNKNOWN}) {
            s.append("<g fill=\"").append(colour(outcome)).append("\" fill-opacity=\"0.7\">\n");
            for (Op op : ops) {
                if (op.outcome() != outcome) {
                    continue;
                }
                double x = LEFT + plotW * op.invokeNanos() / end;
                double lat = Math.max(1.0, op.latencyNanos() / 1e6);
                double y = latBottom - LAT_HEIGHT * (Math.log10(lat) - logMin) / (logMax - logMin);
                s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\"/>", x, y));
            }
            s.append("\n</g>\n");
        }

        // Throughput panel: ops completed per second, stacked by outcome.
        int buckets = (int) Math.ceil(seconds);
        int[][] perSecond = new int[3][buckets];
        for (Op op : ops) {
            int b = (int) Math.min(buckets - 1, op.completeNanos() / 1_000_000_000L);
            perSecond[op.outcome().ordinal()][b]++;
        }
        int maxPerSecond = 1;
        for (int b = 0; b < buckets; b++) {
            maxPerSecond = Math.max(maxPerSecond, perSecond[0][b] + perSecond[1][b] + perSecond[2][b]);
        }
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#444\"/>%n", LEFT, tputTop, plotW, TPUT_HEIGHT));
        double barW = plotW / Math.max(1, seconds);
        for (int b = 0; b < buckets; b++) {
            double y = tputBottom;
            for (Outcome outcome : new Outcome[] {Outcome.OK, Outcome.FAIL, Outcome.UNKNOWN}) {
                int n = perSecond[outcome.ordinal()][b];
                if (n == 0) {
                    continue;
                }
                double h = (double) TPUT_HEIGHT * n / maxPerSecond;
                y -= h;
                s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        + "fill=\"%s\"/>", LEFT + b * barW, y, Math.max(0.5, barW - 0.5), h, colour(outcome)));
            }
        }
        s.append('\n');
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%d/s</text>%n",
                LEFT - 4, tputTop + 10, maxPerSecond));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>%n",
                LEFT - 4, tputBottom));
        s.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
                + "text-anchor=\"middle\">ops/s</text>%n", tputTop + TPUT_HEIGHT / 2, tputTop + TPUT_HEIGHT / 2));

        // Time axis under both panels.
        int step = niceStep(seconds);
        for (int t = 0; t <= seconds; t += step) {
            double x = LEFT + plotW * t / seconds;
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#444\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%ds</text>%n",
                    x, x, tputBottom, tputBottom + 5, x, tputBottom + 18, t));
        }

        // Legend.
        int ly = height - 22;
        int lx = LEFT;
        for (Outcome outcome : new Outcome[] {Outcome.OK, Outcome.FAIL, Outcome.UNKNOWN}) {
            s.append(String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"%d\">%s</text>%n", lx, ly, colour(outcome), lx + 9, ly + 4,
                    outcome.name().toLowerCase(Locale.ROOT)));
            lx += 80;
        }
        for (Map.Entry<String, String> e : colourOfKind.entrySet()) {
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"10\" fill=\"%s\" "
                    + "fill-opacity=\"0.4\"/><text x=\"%d\" y=\"%d\">%s</text>%n", lx, ly - 5, e.getValue(),
                    lx + 16, ly + 4, escape(e.getKey())));
            lx += 26 + 6 * e.getKey().length();
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private static String colour(Outcome o) {
        return switch (o) {
            case OK -> OK;
            case FAIL -> FAIL;
            case UNKNOWN -> UNKNOWN;
        };
    }

    private static int niceStep(double seconds) {
        for (int step : new int[] {1, 2, 5, 10, 15, 30, 60, 120, 300, 600}) {
            if (seconds / step <= 20) {
                return step;
            }
        }
        return 1200;
    }

    private static String latencyLabel(double ms) {
        return ms >= 1000 ? String.format(Locale.ROOT, "%.0fs", ms / 1000) : String.format(Locale.ROOT, "%.0fms", ms);
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.1fs", nanos / 1e9);
    }

    static String escape(String s) {
        if (s == null) {
            return "";
        }
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}

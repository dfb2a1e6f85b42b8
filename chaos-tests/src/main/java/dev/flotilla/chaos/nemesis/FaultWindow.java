package dev.flotilla.chaos.nemesis;

/**
 * One fault as it happened: its kind (e.g. "partition-halves"), what it hit, and when it began and
 * ended, in nanoseconds since the run began. {@code endNanos} is -1 while it is still active.
 */
public record FaultWindow(long id, String kind, String targets, long startNanos, long endNanos, String detail) {

    /** The same window, closed at {@code end}. */
    public FaultWindow endedAt(long end, String moreDetail) {
        String d = moreDetail == null || moreDetail.isBlank() ? detail
                : detail == null || detail.isBlank() ? moreDetail : detail + "; " + moreDetail;
        return new FaultWindow(id, kind, targets, startNanos, end, d);
    }

    /** True once the fault has been healed. */
    public boolean ended() {
        return endNanos >= 0;
    }
}

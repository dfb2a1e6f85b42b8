package dev.flotilla.node.agent;

import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.ObservedState;

/**
 * The agent's decision for one machine assigned to this node, as a pure function of what the agent is
 * doing with it, what the record asks and says, and (where it matters) what the backend reports. The
 * shell ({@link Agent}) performs the step. Decided in two phases so that the backend is only asked for
 * a status when the answer can change the step.
 */
final class Reconcile {

    private Reconcile() {}

    /** What the agent is doing with a machine. */
    enum Mode { NEW, SUPERVISED, STOPPED, FINISHED, BROKEN }

    /**
     * @param mode        what the agent is doing with the machine now ({@code NEW}: nothing yet, e.g. just restarted)
     * @param newEpoch    the record carries a newer Assign than the one the agent acted on
     * @param specChanged the machine's shape (spec hash) differs from the one it runs with
     * @param retryDue    for a {@code BROKEN} machine: its retry time has come
     * @param job         the spec's lifecycle is {@code job}
     */
    record Situation(Mode mode, boolean newEpoch, boolean specChanged, boolean retryDue, DesiredState desired,
                     ObservedState recorded, boolean job) {
        Situation withMode(Mode m) {
            return new Situation(m, newEpoch, specChanged, retryDue, desired, recorded, job);
        }
    }

    /** One step for the shell. */
    sealed interface Step {
        /** Release it from supervision (when {@code release}), stop it, and report stopped unless recorded so. */
        record Stop(boolean release, boolean report) implements Step {}

        /** Its shape changed: release and stop the old machine, then decide again as stopped. */
        record RestartForNewSpec() implements Step {}

        /** Nothing to do but catch a lost report. */
        record Keep() implements Step {}

        /** A job that ran to its end before: it is never run again. */
        record StayFinished() implements Step {}

        /** Read the backend's status and call {@link #withStatus}. */
        record ReadStatus() implements Step {}

        /** It already runs: supervise it without starting it; report running unless recorded so. */
        record Adopt(boolean report) implements Step {}

        /** A job that ended while the agent was away: report how, and do not run it again. */
        record ReportEnded() implements Step {}

        /** Create and start it under supervision; report starting when the record shows an older state. */
        record Start(boolean reportStarting) implements Step {}
    }

    /** The first phase: everything that needs no backend status. */
    static Step decide(Situation s) {
        boolean fresh = !s.newEpoch() && !s.specChanged();
        if (s.desired() == DesiredState.DESIRED_STOPPED) {
            return new Step.Stop(s.mode() == Mode.SUPERVISED || s.mode() == Mode.NEW,
                    s.recorded() != ObservedState.STOPPED);
        }
        if (s.mode() == Mode.SUPERVISED) {
            return s.specChanged() ? new Step.RestartForNewSpec() : new Step.Keep();
        }
        if ((s.mode() == Mode.FINISHED && fresh) || (s.mode() == Mode.BROKEN && !s.retryDue() && fresh)) {
            return new Step.Keep();
        }
        return new Step.ReadStatus();
    }

    /** The second phase, given what the backend says of the machine now. */
    static Step withStatus(Situation s, VmStatus status) {
        if (status.exists() && status.state() == ObservedState.RUNNING) {
            return new Step.Adopt(s.recorded() != ObservedState.RUNNING);
        }
        if (s.job() && s.mode() == Mode.NEW && !s.newEpoch()) {
            // Just restarted: a job that ran to its end before is never run again (one the leader
            // declared stranded but that still runs was adopted above, and reports its real end).
            if (s.recorded() == ObservedState.EXITED || s.recorded() == ObservedState.FAILED) {
                return new Step.StayFinished();
            }
            boolean ended = status.state() == ObservedState.EXITED || status.state() == ObservedState.FAILED;
            if (status.exists() && ended) return new Step.ReportEnded();
        }
        return new Step.Start(s.recorded() != ObservedState.STARTING && s.recorded() != ObservedState.PENDING);
    }
}

package dev.flotilla.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flotilla.node.agent.Reconcile.Mode;
import dev.flotilla.node.agent.Reconcile.Situation;
import dev.flotilla.node.agent.Reconcile.Step;
import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.ObservedState;
import org.junit.jupiter.api.Test;

class ReconcileTest {
    private static final DesiredState RUN = DesiredState.DESIRED_RUNNING;
    private static final VmStatus RUNNING = VmStatus.of(ObservedState.RUNNING, "pid 42");
    private static final VmStatus ABSENT = VmStatus.absent();

    private static Situation service(Mode mode, ObservedState recorded) {
        return new Situation(mode, false, false, false, RUN, recorded, false);
    }

    private static Situation job(Mode mode, ObservedState recorded) {
        return new Situation(mode, false, false, false, RUN, recorded, true);
    }

    @Test
    void aNewAssignmentIsStartedWithoutAStartingReportWhileThePendingRecordSaysEnough() {
        Situation s = service(Mode.NEW, ObservedState.PENDING);
        assertEquals(new Step.ReadStatus(), Reconcile.decide(s));
        assertEquals(new Step.Start(false), Reconcile.withStatus(s, ABSENT));
        assertEquals(new Step.Start(true), Reconcile.withStatus(service(Mode.STOPPED, ObservedState.STOPPED), ABSENT),
                "a restart after a stop is reported as starting first");
    }

    @Test
    void afterARestartWhatRunsIsAdoptedAndWhatDiedIsStartedAgain() {
        assertEquals(new Step.Adopt(false), Reconcile.withStatus(service(Mode.NEW, ObservedState.RUNNING), RUNNING));
        assertEquals(new Step.Adopt(true), Reconcile.withStatus(service(Mode.NEW, ObservedState.PENDING), RUNNING));
        assertEquals(new Step.Start(true), Reconcile.withStatus(service(Mode.NEW, ObservedState.RUNNING),
                VmStatus.exited(-1, "ended while away")), "a service that died while the agent was away starts again");
    }

    @Test
    void aJobIsNeverRunTwice() {
        Situation endedBefore = job(Mode.NEW, ObservedState.EXITED);
        assertEquals(new Step.ReadStatus(), Reconcile.decide(endedBefore));
        assertEquals(new Step.StayFinished(), Reconcile.withStatus(endedBefore, VmStatus.exited(0, "done")), "ended before the restart");
        assertEquals(new Step.StayFinished(), Reconcile.withStatus(endedBefore, ABSENT), "its directory gone: still not rerun");
        assertEquals(new Step.Adopt(true), Reconcile.withStatus(job(Mode.NEW, ObservedState.FAILED), RUNNING),
                "declared stranded while its node was away, but still running: adopted, its real end reported later");
        assertEquals(new Step.Keep(), Reconcile.decide(job(Mode.FINISHED, ObservedState.EXITED)));
        Situation away = job(Mode.NEW, ObservedState.RUNNING);
        assertEquals(new Step.ReadStatus(), Reconcile.decide(away));
        assertEquals(new Step.ReportEnded(), Reconcile.withStatus(away, VmStatus.exited(-1, "ended while away")),
                "ended while the agent was away: reported, not rerun");
        Situation reassigned = new Situation(Mode.FINISHED, true, false, false, RUN, ObservedState.PENDING, true);
        assertEquals(new Step.ReadStatus(), Reconcile.decide(reassigned), "a new Assign runs it anew");
    }

    @Test
    void aStopIsReportedOnceAndOnlyASupervisedOrUnknownMachineIsStopped() {
        Situation s = new Situation(Mode.SUPERVISED, false, false, false, DesiredState.DESIRED_STOPPED, ObservedState.RUNNING, false);
        assertEquals(new Step.Stop(true, true), Reconcile.decide(s));
        assertEquals(new Step.Stop(false, true), Reconcile.decide(s.withMode(Mode.STOPPED)), "a lost report is sent again");
        assertEquals(new Step.Stop(false, false), Reconcile.decide(new Situation(Mode.STOPPED, false, false, false,
                DesiredState.DESIRED_STOPPED, ObservedState.STOPPED, false)), "stopped and recorded so: nothing");
    }

    @Test
    void aChangedShapeRestartsASupervisedMachineAndAnUnchangedOneIsKept() {
        assertEquals(new Step.Keep(), Reconcile.decide(service(Mode.SUPERVISED, ObservedState.RUNNING)));
        Situation changed = new Situation(Mode.SUPERVISED, false, true, false, RUN, ObservedState.RUNNING, false);
        assertEquals(new Step.RestartForNewSpec(), Reconcile.decide(changed));
        assertEquals(new Step.ReadStatus(), Reconcile.decide(changed.withMode(Mode.STOPPED)));
    }

    @Test
    void aBrokenMachineWaitsForItsRetryTime() {
        assertEquals(new Step.Keep(), Reconcile.decide(service(Mode.BROKEN, ObservedState.FAILED)));
        Situation due = new Situation(Mode.BROKEN, false, false, true, RUN, ObservedState.FAILED, false);
        assertEquals(new Step.ReadStatus(), Reconcile.decide(due));
    }
}

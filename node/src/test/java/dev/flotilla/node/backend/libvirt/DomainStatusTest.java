package dev.flotilla.node.backend.libvirt;

import dev.flotilla.proto.ObservedState;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class DomainStatusTest {

    @Test
    void everyLibvirtStateMapsToAnObservedState() {
        assertEquals(ObservedState.STARTING, DomainStatus.of(0, "v").state());
        assertEquals(ObservedState.RUNNING, DomainStatus.of(1, "v").state());
        assertEquals(ObservedState.RUNNING, DomainStatus.of(2, "v").state(), "blocked is an idle running guest");
        assertEquals(ObservedState.STOPPED, DomainStatus.of(3, "v").state());
        assertEquals(ObservedState.STOPPING, DomainStatus.of(4, "v").state());
        assertEquals(ObservedState.STOPPED, DomainStatus.of(5, "v").state());
        assertEquals(ObservedState.FAILED, DomainStatus.of(6, "v").state());
        assertEquals(ObservedState.STOPPED, DomainStatus.of(7, "v").state());
        assertTrue(DomainStatus.of(6, "v").reason().contains("/var/log/libvirt/qemu/v.log"));
    }

    @Test
    void anUnknownStateIsAFailureThatSaysSo() {
        assertEquals(ObservedState.FAILED, DomainStatus.of(42, "v").state());
        assertTrue(DomainStatus.of(42, "v").reason().contains("state 42"));
    }
}

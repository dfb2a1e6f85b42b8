package dev.flotilla.node.backend.libvirt;

import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.proto.ObservedState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The libvirt backend against libvirt's own in-process test driver (test:///default): real libvirt
 * (libvirt0 through JNA), a fake hypervisor. The driver starts with one domain, "test", that Flotilla
 * did not make.
 */
class LibvirtBackendTest {

    private LibvirtBackend backend;

    @BeforeEach
    void setUp() throws BackendException {
        backend = new LibvirtBackend("test:///default", new DomainXml.Options("kvm", "default"), Duration.ofSeconds(5));
    }

    @AfterEach
    void tearDown() {
        backend.close();
    }

    private static VmInstance vm(String name) {
        return new VmInstance(name, DomainXmlTest.spec("/boot/vmlinuz", "/var/lib/flotilla/rootfs.cpio.gz", 1, 128),
                "10.0.0.9", "52:54:00:00:00:2a", 1);
    }

    @Test
    void defineStartShutdownUndefine() throws Exception {
        VmInstance vm = vm("web-1");
        assertFalse(backend.status(vm).exists());
        backend.create(vm);
        assertEquals(ObservedState.STOPPED, backend.status(vm).state());
        assertEquals(List.of("web-1"), backend.list(), "only Flotilla's domains are listed");

        backend.start(vm);
        VmStatus running = backend.status(vm);
        assertEquals(ObservedState.RUNNING, running.state(), running.toString());
        backend.start(vm); // starting a running VM is a no-op

        backend.stop(vm);
        assertEquals(ObservedState.STOPPED, backend.status(vm).state());
        backend.stop(vm); // stopping a stopped VM is a no-op

        backend.delete(vm);
        assertFalse(backend.status(vm).exists());
        assertEquals(List.of(), backend.list());
        backend.delete(vm); // deleting an unknown VM is a no-op
    }

    @Test
    void theDomainCarriesTheSpecAndTheMac() throws Exception {
        VmInstance vm = vm("shape");
        backend.create(vm);
        String xml = backend.connection().domainLookupByName("shape").getXMLDesc(0);
        assertTrue(xml.contains("<mac address='52:54:00:00:00:2a'/>"), xml);
        assertTrue(xml.contains("<memory unit='KiB'>131072</memory>"), xml);
        assertTrue(xml.contains("<initrd>/var/lib/flotilla/rootfs.cpio.gz</initrd>"), xml);
        backend.delete(vm);
    }

    @Test
    void createIsIdempotentAndKeepsTheDomainsIdentity() throws Exception {
        VmInstance vm = vm("again");
        backend.create(vm);
        String uuid = backend.connection().domainLookupByName("again").getUUIDString();
        backend.create(vm);
        assertEquals(uuid, backend.connection().domainLookupByName("again").getUUIDString());
        backend.delete(vm);
    }

    @Test
    void deleteStopsARunningDomainFirst() throws Exception {
        VmInstance vm = vm("busy");
        backend.create(vm);
        backend.start(vm);
        backend.delete(vm);
        assertFalse(backend.status(vm).exists());
    }

    @Test
    void aPausedDomainReadsAsStoppedAndStartResumesIt() throws Exception {
        VmInstance vm = vm("napper");
        backend.create(vm);
        backend.start(vm);
        backend.connection().domainLookupByName("napper").suspend();
        VmStatus paused = backend.status(vm);
        assertEquals(ObservedState.STOPPED, paused.state());
        assertTrue(paused.reason().contains("paused"), paused.reason());
        backend.start(vm);
        assertEquals(ObservedState.RUNNING, backend.status(vm).state());
        backend.delete(vm);
    }

    @Test
    void aDomainWithTheSameNameThatFlotillaDidNotMakeIsLeftAlone() throws Exception {
        // test:///default ships a running domain called "test".
        VmInstance clash = vm("test");
        BackendException e = assertThrows(BackendException.class, () -> backend.create(clash));
        assertTrue(e.getMessage().contains("already exists") && e.getMessage().contains("not made by Flotilla")
                && e.getMessage().contains("virsh undefine test"), e.getMessage());
        assertThrows(BackendException.class, () -> backend.delete(clash));
        assertThrows(BackendException.class, () -> backend.stop(clash));
        assertEquals(1, backend.connection().domainLookupByName("test").isActive(), "the operator's domain still runs");
        assertEquals(ObservedState.FAILED, backend.status(clash).state());
        assertFalse(backend.list().contains("test"));
    }

    @Test
    void aDefinitionLibvirtRejectsIsAClearError() throws Exception {
        try (LibvirtBackend misconfigured = new LibvirtBackend("test:///default", new DomainXml.Options("kvmm", "default"), Duration.ofSeconds(1))) {
            BackendException e = assertThrows(BackendException.class, () -> misconfigured.create(vm("typo")));
            assertTrue(e.getMessage().contains("rejected the domain definition") && e.getMessage().contains("kvmm")
                    && e.getMessage().contains("libvirt.domain_type"), e.getMessage());
            assertTrue(e.getMessage().contains("<domain type='kvmm'>"), "the message shows the XML: " + e.getMessage());
        }
    }

    @Test
    void aSpecThatCannotBecomeADomainNamesTheField() {
        VmInstance noMemory = new VmInstance("tiny", DomainXmlTest.spec("/boot/vmlinuz", "", 1, 0), "", "", 1);
        BackendException e = assertThrows(BackendException.class, () -> backend.create(noMemory));
        assertTrue(e.getMessage().contains("libvirt VM 'tiny'") && e.getMessage().contains("spec.resources.mem_mb"), e.getMessage());
    }

    @Test
    void startingAnUndefinedVmSaysToCreateItFirst() {
        BackendException e = assertThrows(BackendException.class, () -> backend.start(vm("never-made")));
        assertTrue(e.getMessage().contains("no such domain") && e.getMessage().contains("create it first"), e.getMessage());
    }

    @Test
    void aBadUriIsAClearError() {
        BackendException e = assertThrows(BackendException.class,
                () -> new LibvirtBackend("nosuchdriver:///x", DomainXml.Options.defaults(), Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("cannot connect to nosuchdriver:///x") && e.getMessage().contains("libvirt.uri"), e.getMessage());
    }
}

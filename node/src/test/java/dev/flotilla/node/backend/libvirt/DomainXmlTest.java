package dev.flotilla.node.backend.libvirt;

import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.VmSpec;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class DomainXmlTest {

    private static final DomainXml.Options OPTS = new DomainXml.Options("qemu", "flotilla-net");

    static VmSpec spec(String kernel, String rootfs, int vcpu, int memMb) {
        return VmSpec.newBuilder().setRuntime("libvirt").setKernel(kernel).setRootfs(rootfs)
                .setResources(Resources.newBuilder().setVcpu(vcpu).setMemMb(memMb)).build();
    }

    private static String xpath(String xml, String expr) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(false);
        Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        return XPathFactory.newInstance().newXPath().evaluate(expr, doc);
    }

    @Test
    void aKernelWithAnInitrdBootsDirectly() throws Exception {
        String xml = DomainXml.of(new VmInstance("web-1", spec("/boot/vmlinuz", "/var/lib/flotilla/busybox.cpio.gz", 2, 256),
                "10.0.0.5", "52:54:00:AB:CD:01", 7), OPTS, "");
        assertEquals("qemu", xpath(xml, "/domain/@type"));
        assertEquals("web-1", xpath(xml, "/domain/name"));
        assertEquals("256", xpath(xml, "/domain/memory"));
        assertEquals("MiB", xpath(xml, "/domain/memory/@unit"));
        assertEquals("2", xpath(xml, "/domain/vcpu"));
        assertEquals("/boot/vmlinuz", xpath(xml, "/domain/os/kernel"));
        assertEquals("/var/lib/flotilla/busybox.cpio.gz", xpath(xml, "/domain/os/initrd"));
        assertEquals("", xpath(xml, "/domain/devices/disk/source/@file"), "an initrd is no disk");
        assertEquals("52:54:00:ab:cd:01", xpath(xml, "/domain/devices/interface/mac/@address"));
        assertEquals("flotilla-net", xpath(xml, "/domain/devices/interface/source/@network"));
        assertEquals("7", xpath(xml, "/domain/metadata/*/@epoch"));
        assertEquals("", xpath(xml, "/domain/uuid"));
    }

    @Test
    void aKernelWithADiskMountsItAsRoot() throws Exception {
        String xml = DomainXml.of(new VmInstance("db", spec("/boot/vmlinuz", "/images/db.qcow2", 1, 1024), "", "", 1), OPTS, "");
        assertEquals("/images/db.qcow2", xpath(xml, "/domain/devices/disk/source/@file"));
        assertEquals("qcow2", xpath(xml, "/domain/devices/disk/driver/@type"));
        assertTrue(xpath(xml, "/domain/os/cmdline").contains("root=/dev/vda"));
        assertEquals("", xpath(xml, "/domain/devices/interface/mac/@address"), "no MAC: libvirt picks one");
    }

    @Test
    void aDiskAloneBootsItself() throws Exception {
        String xml = DomainXml.of(new VmInstance("win", spec("", "/images/disk.img", 0, 2048), "", "", 1), OPTS,
                "0ccd57f3-fd4d-47de-84a6-422764f36569");
        assertEquals("hd", xpath(xml, "/domain/os/boot/@dev"));
        assertEquals("", xpath(xml, "/domain/os/kernel"));
        assertEquals("raw", xpath(xml, "/domain/devices/disk/driver/@type"));
        assertEquals("1", xpath(xml, "/domain/vcpu"), "at least one vcpu");
        assertEquals("0ccd57f3-fd4d-47de-84a6-422764f36569", xpath(xml, "/domain/uuid"), "redefining keeps the UUID");
    }

    @Test
    void pathsAreEscapedNotInterpreted() throws Exception {
        String evil = "/images/a'b\"<c>&d.img";
        String xml = DomainXml.of(new VmInstance("x", spec("/k&<'>", evil, 1, 64), "", "", 1),
                new DomainXml.Options("qemu", "net'</source>"), "");
        assertEquals(evil, xpath(xml, "/domain/devices/disk/source/@file"));
        assertEquals("/k&<'>", xpath(xml, "/domain/os/kernel"));
        assertEquals("net'</source>", xpath(xml, "/domain/devices/interface/source/@network"));
    }

    @Test
    void theSameSpecGivesTheSameXml() {
        VmInstance vm = new VmInstance("same", spec("/boot/vmlinuz", "/r.cpio", 1, 128), "", "52:54:00:00:00:09", 3);
        assertEquals(DomainXml.of(vm, OPTS, ""), DomainXml.of(vm, OPTS, ""));
    }

    @Test
    void specsThatCannotBootSayWhichFieldIsWrong() {
        assertMessage("spec.resources.mem_mb is 0", new VmInstance("a", spec("/k", "/r.img", 1, 0), "", "", 1));
        assertMessage("spec.kernel and spec.rootfs are both empty", new VmInstance("a", spec("", "", 1, 64), "", "", 1));
        assertMessage("is an initrd, which needs spec.kernel", new VmInstance("a", spec("", "/r.cpio", 1, 64), "", "", 1));
        assertMessage("MAC address 'zz' is not", new VmInstance("a", spec("/k", "", 1, 64), "", "zz", 1));
        assertMessage("VM name 'a/b' cannot name", new VmInstance("a/b", spec("/k", "", 1, 64), "", "", 1));
    }

    private static void assertMessage(String expected, VmInstance vm) {
        DomainXml.InvalidSpec e = assertThrows(DomainXml.InvalidSpec.class, () -> DomainXml.of(vm, OPTS, ""));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}

package dev.flotilla.node.backend.libvirt;

import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.proto.VmSpec;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The libvirt domain XML for a VM, made from its spec and nothing else (a pure function, tested on its
 * own). {@code spec.kernel} boots that kernel directly; {@code spec.rootfs} is its initrd when it is a
 * cpio archive and otherwise a disk (qcow2 or raw by its extension); with no kernel the disk boots
 * itself. The domain carries Flotilla's metadata element, which is how the backend tells its own
 * domains from the ones an operator made by hand.
 */
public final class DomainXml {

    /** The XML namespace of Flotilla's {@code <metadata>} element. */
    public static final String NAMESPACE = "https://flotilla.dev/xmlns/libvirt/1";

    /** Libvirt forbids '/' in names; we also keep names plain so they are safe in paths and logs. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern MAC = Pattern.compile("([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}");
    private static final List<String> INITRD_SUFFIXES = List.of(".cpio", ".cpio.gz", ".cpio.xz", ".cpio.zst", ".initrd", "initrd.img");

    private DomainXml() {}

    /**
     * Node-level settings for every domain.
     *
     * @param domainType {@code kvm} where /dev/kvm exists, {@code qemu} for software emulation ({@code libvirt.domain_type})
     * @param network    the libvirt network each VM's interface joins ({@code libvirt.network})
     */
    public record Options(String domainType, String network) {
        public static Options defaults() {
            return new Options("kvm", "default");
        }
    }

    /** Why a spec cannot become a domain; the message names the spec field and what is allowed. */
    public static final class InvalidSpec extends IllegalArgumentException {
        public InvalidSpec(String message) {
            super(message);
        }
    }

    /** The domain XML for {@code vm}; {@code uuid} is the existing domain's when redefining it, else empty. */
    public static String of(VmInstance vm, Options options, String uuid) {
        VmSpec spec = vm.spec();
        if (!NAME.matcher(vm.name()).matches()) {
            throw new InvalidSpec("VM name '" + vm.name() + "' cannot name a libvirt domain; use 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit");
        }
        int memMb = spec.getResources().getMemMb();
        if (memMb <= 0) {
            throw new InvalidSpec("spec.resources.mem_mb is " + memMb + "; a libvirt VM needs memory, e.g. mem_mb: 512");
        }
        int vcpu = Math.max(1, spec.getResources().getVcpu());
        String kernel = spec.getKernel();
        String rootfs = spec.getRootfs();
        if (kernel.isEmpty() && rootfs.isEmpty()) {
            throw new InvalidSpec("spec.kernel and spec.rootfs are both empty; a libvirt VM needs a kernel (with an initrd or a disk as rootfs) or a bootable disk image as rootfs");
        }
        boolean initrd = !rootfs.isEmpty() && isInitrd(rootfs);
        if (initrd && kernel.isEmpty()) {
            throw new InvalidSpec("spec.rootfs '" + rootfs + "' is an initrd, which needs spec.kernel to boot; set spec.kernel or give a disk image");
        }
        String mac = vm.mac() == null ? "" : vm.mac();
        if (!mac.isEmpty() && !MAC.matcher(mac).matches()) {
            throw new InvalidSpec("MAC address '" + mac + "' is not of the form 52:54:00:12:34:56");
        }

        StringBuilder x = new StringBuilder(1024);
        x.append("<domain type='").append(attr(options.domainType())).append("'>\n");
        x.append("  <name>").append(text(vm.name())).append("</name>\n");
        if (uuid != null && !uuid.isEmpty()) {
            x.append("  <uuid>").append(text(uuid)).append("</uuid>\n");
        }
        x.append("  <description>Flotilla VM ").append(text(vm.name())).append("; managed by Flotilla, changes here are overwritten</description>\n");
        x.append("  <metadata>\n");
        x.append("    <flotilla:vm xmlns:flotilla='").append(NAMESPACE).append("' epoch='").append(vm.epoch()).append("'/>\n");
        x.append("  </metadata>\n");
        x.append("  <memory unit='MiB'>").append(memMb).append("</memory>\n");
        x.append("  <vcpu>").append(vcpu).append("</vcpu>\n");
        x.append("  <os>\n");
        x.append("    <type>hvm</type>\n");
        if (!kernel.isEmpty()) {
            x.append("    <kernel>").append(text(kernel)).append("</kernel>\n");
            if (initrd) {
                x.append("    <initrd>").append(text(rootfs)).append("</initrd>\n");
                x.append("    <cmdline>console=ttyS0</cmdline>\n");
            } else if (!rootfs.isEmpty()) {
                x.append("    <cmdline>console=ttyS0 root=/dev/vda rw</cmdline>\n");
            } else {
                x.append("    <cmdline>console=ttyS0</cmdline>\n");
            }
        } else {
            x.append("    <boot dev='hd'/>\n");
        }
        x.append("  </os>\n");
        // The agent restarts services by their lifecycle; libvirt must not also do it behind its back.
        x.append("  <on_poweroff>destroy</on_poweroff>\n");
        x.append("  <on_reboot>restart</on_reboot>\n");
        x.append("  <on_crash>destroy</on_crash>\n");
        x.append("  <devices>\n");
        if (!rootfs.isEmpty() && !initrd) {
            x.append("    <disk type='file' device='disk'>\n");
            x.append("      <driver name='qemu' type='").append(diskFormat(rootfs)).append("'/>\n");
            x.append("      <source file='").append(attr(rootfs)).append("'/>\n");
            x.append("      <target dev='vda' bus='virtio'/>\n");
            x.append("    </disk>\n");
        }
        x.append("    <interface type='network'>\n");
        x.append("      <source network='").append(attr(options.network())).append("'/>\n");
        if (!mac.isEmpty()) {
            x.append("      <mac address='").append(mac.toLowerCase(Locale.ROOT)).append("'/>\n");
        }
        x.append("      <model type='virtio'/>\n");
        x.append("    </interface>\n");
        x.append("    <serial type='pty'/>\n");
        x.append("    <console type='pty'/>\n");
        x.append("  </devices>\n");
        x.append("</domain>\n");
        return x.toString();
    }

    static boolean isInitrd(String path) {
        String p = path.toLowerCase(Locale.ROOT);
        return INITRD_SUFFIXES.stream().anyMatch(p::endsWith);
    }

    static String diskFormat(String path) {
        return path.toLowerCase(Locale.ROOT).endsWith(".qcow2") ? "qcow2" : "raw";
    }

    private static String text(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String attr(String s) {
        return text(s).replace("'", "&apos;").replace("\"", "&quot;");
    }
}

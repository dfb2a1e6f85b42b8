package dev.flotilla.node.backend.microvm;

import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.proto.VmSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The machine one microVM is, as the flake declares it: everything the backend takes from the spec
 * and IPAM, checked so that nothing in it can break out of a Nix string.
 *
 * @param kernel a kernel image on the host, or "" for the guest NixOS's own
 * @param initrd an initramfs on the host, or ""
 * @param rootfs a raw disk image on the host attached read-only, or ""
 * @param tapId  the host's tap interface name, at most 15 characters (IFNAMSIZ - 1)
 */
public record MicrovmDefinition(
        String name, String hypervisor, int vcpu, int memMb,
        String kernel, String initrd, String rootfs, String tapId, String mac) {

    /** Hypervisors microvm.nix can run whose control socket this backend reads. */
    public static final Set<String> HYPERVISORS = Set.of("qemu", "cloud-hypervisor", "firecracker");
    static final int DEFAULT_VCPU = 1;
    static final int DEFAULT_MEM_MB = 256;
    private static final Pattern HOST_PATH = Pattern.compile("(/[A-Za-z0-9._+@-]+)+");
    private static final Pattern MAC = Pattern.compile("([0-9a-f]{2}:){5}[0-9a-f]{2}");

    /** Reads the definition from a VM's spec, saying which field is wrong and what is allowed. */
    public static MicrovmDefinition of(VmInstance vm) throws BackendException {
        String name = VmName.check(vm.name());
        VmSpec spec = vm.spec();
        String hypervisor = spec.getHypervisor().isEmpty() ? "qemu" : spec.getHypervisor();
        if (!HYPERVISORS.contains(hypervisor)) {
            throw new BackendException("microvm: VM " + name + ": spec.hypervisor '" + hypervisor
                    + "' is not supported; use one of qemu, cloud-hypervisor, firecracker");
        }
        int vcpu = spec.hasResources() && spec.getResources().getVcpu() > 0
                ? spec.getResources().getVcpu() : DEFAULT_VCPU;
        int mem = spec.hasResources() && spec.getResources().getMemMb() > 0
                ? spec.getResources().getMemMb() : DEFAULT_MEM_MB;
        String kernel = hostPath(name, "spec.kernel", spec.getKernel());
        String rootfs = hostPath(name, "spec.rootfs", spec.getRootfs());
        // An initramfs is the whole root file system of small guests; a disk image is attached instead.
        boolean initramfs = isInitramfs(rootfs);
        String mac = vm.mac() == null ? "" : vm.mac().toLowerCase(Locale.ROOT);
        if (!mac.isEmpty() && !MAC.matcher(mac).matches()) {
            throw new BackendException("microvm: VM " + name + ": MAC '" + vm.mac()
                    + "' from IPAM is not of the form 02:xx:xx:xx:xx:xx; this is a bug in IPAM, report it");
        }
        return new MicrovmDefinition(name, hypervisor, vcpu, mem, kernel,
                initramfs ? rootfs : "", initramfs ? "" : rootfs, tapId(name), mac);
    }

    /** A stable interface name of exactly 15 characters, from the VM name (which may be longer). */
    public static String tapId(String name) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return "fl-" + HexFormat.of().formatHex(digest).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }

    static boolean isInitramfs(String path) {
        String file = path.substring(path.lastIndexOf('/') + 1);
        return file.contains("initrd") || file.contains("initramfs")
                || file.endsWith(".cpio") || file.endsWith(".cpio.gz");
    }

    private static String hostPath(String vm, String field, String value) throws BackendException {
        if (value.isEmpty()) {
            return "";
        }
        if (!HOST_PATH.matcher(value).matches() || value.contains("/../") || value.endsWith("/..")) {
            throw new BackendException("microvm: VM " + vm + ": " + field + " '" + value + "' must be an "
                    + "absolute path of letters, digits and ._+@- without '..' (it is written into a flake)");
        }
        return value;
    }
}

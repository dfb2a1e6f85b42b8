package dev.flotilla.node.backend.microvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.VmSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MicrovmDefinitionTest {

    private static VmInstance vm(String name, VmSpec.Builder spec, String mac) {
        return new VmInstance(name, spec.build(), "10.0.0.9", mac, 3);
    }

    @Test
    void takesHypervisorResourcesAndImagesFromTheSpecAndTheMacFromIpam() throws Exception {
        MicrovmDefinition d = MicrovmDefinition.of(vm("api-7", VmSpec.newBuilder()
                .setHypervisor("cloud-hypervisor")
                .setKernel("/srv/images/vmlinuz")
                .setRootfs("/srv/images/api.ext4")
                .setResources(Resources.newBuilder().setVcpu(2).setMemMb(384)), "02:AA:00:00:00:07"));
        assertEquals(new MicrovmDefinition("api-7", "cloud-hypervisor", 2, 384, "/srv/images/vmlinuz", "",
                "/srv/images/api.ext4", MicrovmDefinition.tapId("api-7"), "02:aa:00:00:00:07"), d);
    }

    @Test
    void anInitramfsRootfsBootsAsTheInitrdAndMissingValuesGetDefaults() throws Exception {
        MicrovmDefinition d = MicrovmDefinition.of(vm("tiny", VmSpec.newBuilder()
                .setRootfs("/srv/guest/initrd.cpio.gz"), ""));
        assertEquals("qemu", d.hypervisor());
        assertEquals(MicrovmDefinition.DEFAULT_VCPU, d.vcpu());
        assertEquals(MicrovmDefinition.DEFAULT_MEM_MB, d.memMb());
        assertEquals("/srv/guest/initrd.cpio.gz", d.initrd());
        assertEquals("", d.rootfs());
    }

    @Test
    void tapIdsFitIfnamsizAndAreStablePerName() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < 200; i++) {
            String name = "vm-" + Long.toHexString(random.nextLong()) + "-" + i;
            String tap = MicrovmDefinition.tapId(name);
            assertTrue(tap.length() <= 15, "seed " + seed + ": tap id " + tap + " for " + name + " is too long");
            assertEquals(tap, MicrovmDefinition.tapId(name), "seed " + seed);
        }
        assertTrue(!MicrovmDefinition.tapId("a").equals(MicrovmDefinition.tapId("b")));
    }

    @Test
    void refusesValuesThatWouldBreakOutOfTheFlake() {
        BackendException hv = assertThrows(BackendException.class, () -> MicrovmDefinition.of(
                vm("x", VmSpec.newBuilder().setHypervisor("kvmtool"), "")));
        assertTrue(hv.getMessage().contains("spec.hypervisor 'kvmtool'"), hv.getMessage());
        for (String bad : new String[] {"relative/vmlinuz", "/a/${builtins.x}", "/a/\"b", "/a/../etc/shadow"}) {
            BackendException e = assertThrows(BackendException.class, () -> MicrovmDefinition.of(
                    vm("x", VmSpec.newBuilder().setKernel(bad), "")));
            assertTrue(e.getMessage().contains("spec.kernel"), e.getMessage());
        }
        BackendException mac = assertThrows(BackendException.class, () -> MicrovmDefinition.of(
                vm("x", VmSpec.newBuilder(), "02:00:00:00:00:0g")));
        assertTrue(mac.getMessage().contains("MAC"), mac.getMessage());
        BackendException name = assertThrows(BackendException.class, () -> MicrovmDefinition.of(
                vm("Web_1", VmSpec.newBuilder(), "")));
        assertTrue(name.getMessage().contains("a-z, 0-9 and '-'"), name.getMessage());
    }

    @Test
    void theFlakeIsValidNixAndCarriesEveryValueInItsFlotillaBlock(@TempDir Path dir) throws Exception {
        MicrovmDefinition d = new MicrovmDefinition("web-3", "qemu", 2, 160, "/boot/vmlinuz", "/srv/initrd",
                "", "fl-0123456789ab", "02:00:0a:00:00:03");
        String flake = FlakeWriter.render(d);
        for (String line : new String[] {"name = \"web-3\";", "hypervisor = \"qemu\";", "vcpu = 2;", "mem = 160;",
                "kernel = \"/boot/vmlinuz\";", "initrd = \"/srv/initrd\";", "rootfs = \"\";",
                "tapId = \"fl-0123456789ab\";", "mac = \"02:00:0a:00:00:03\";", "nixosConfigurations.web-3 ="}) {
            assertTrue(flake.contains(line), "flake lacks `" + line + "`:\n" + flake);
        }
        Path file = dir.resolve("flake.nix");
        Files.writeString(file, flake, StandardCharsets.UTF_8);
        // nix-bin's parser: the flake must at least be well-formed Nix for a real NixOS host.
        Process p = new ProcessBuilder("nix-instantiate", "--parse", file.toString())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "nix-instantiate --parse did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "nix-instantiate --parse rejected the flake: " + out + "\n" + flake);
    }

    @Test
    void theNixParserIsInstalled() throws IOException, InterruptedException {
        // Guards the test above against passing vacuously on a host without nix-bin.
        Process p = new ProcessBuilder("nix-instantiate", "--version").redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "nix-instantiate is missing: install nix-bin (scripts/install-deps.sh)");
    }
}

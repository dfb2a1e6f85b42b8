package dev.flotilla.node.backend.microvm;

/**
 * Renders the flake for one microVM. It is a real microvm.nix flake (a NixOS configuration named after
 * the VM with the microvm module), and it keeps every value Flotilla sets in one {@code flotilla = {...};}
 * block, one {@code key = value;} a line, so that a host without Nix evaluation (the test host in
 * scripts/microvm-host) can read them back with a line-based parser.
 */
public final class FlakeWriter {
    private FlakeWriter() {}

    /** The text of flake.nix; values are already checked by {@link MicrovmDefinition}. */
    public static String render(MicrovmDefinition d) {
        StringBuilder s = new StringBuilder();
        s.append("# Written by Flotilla for microVM ").append(d.name())
                .append(". Flotilla rewrites this file on every create; do not edit it.\n");
        s.append("{\n");
        s.append("  description = \"Flotilla microVM ").append(d.name()).append("\";\n\n");
        s.append("  inputs.microvm.url = \"github:astro/microvm.nix\";\n");
        s.append("  inputs.nixpkgs.follows = \"microvm/nixpkgs\";\n\n");
        s.append("  outputs = { self, nixpkgs, microvm }:\n");
        s.append("    let\n");
        s.append("      flotilla = {\n");
        line(s, "name", quoted(d.name()));
        line(s, "hypervisor", quoted(d.hypervisor()));
        line(s, "vcpu", Integer.toString(d.vcpu()));
        line(s, "mem", Integer.toString(d.memMb()));
        line(s, "kernel", quoted(d.kernel()));
        line(s, "initrd", quoted(d.initrd()));
        line(s, "rootfs", quoted(d.rootfs()));
        line(s, "tapId", quoted(d.tapId()));
        line(s, "mac", quoted(d.mac()));
        s.append("      };\n");
        s.append("    in {\n");
        s.append("      nixosConfigurations.").append(d.name()).append(" = nixpkgs.lib.nixosSystem {\n");
        s.append("        system = \"x86_64-linux\";\n");
        s.append("        modules = [\n");
        s.append("          microvm.nixosModules.microvm\n");
        s.append("          ({ lib, pkgs, ... }: {\n");
        s.append("            networking.hostName = flotilla.name;\n");
        s.append("            system.stateVersion = lib.trivial.release;\n");
        s.append("            microvm = {\n");
        s.append("              inherit (flotilla) hypervisor vcpu mem;\n");
        s.append("              interfaces = lib.optional (flotilla.mac != \"\") {\n");
        s.append("                type = \"tap\";\n");
        s.append("                id = flotilla.tapId;\n");
        s.append("                inherit (flotilla) mac;\n");
        s.append("              };\n");
        s.append("              volumes = lib.optional (flotilla.rootfs != \"\") {\n");
        s.append("                image = flotilla.rootfs;\n");
        s.append("                mountPoint = null;\n");
        s.append("                autoCreate = false;\n");
        s.append("                size = 0;\n");
        s.append("              };\n");
        // A kernel from the spec is a file on the host: wrap it the way microvm.nix expects a kernel
        // package (bzImage at its top), without copying it into the store.
        s.append("            } // lib.optionalAttrs (flotilla.kernel != \"\") {\n");
        s.append("              kernel = pkgs.runCommand \"flotilla-kernel\" { } ''\n");
        s.append("                mkdir -p $out\n");
        s.append("                ln -s ${flotilla.kernel} $out/${pkgs.stdenv.hostPlatform.linux-kernel.target}\n");
        s.append("              '';\n");
        s.append("            } // lib.optionalAttrs (flotilla.initrd != \"\") {\n");
        s.append("              initrdPath = flotilla.initrd;\n");
        s.append("            };\n");
        s.append("          })\n");
        s.append("        ];\n");
        s.append("      };\n");
        s.append("    };\n");
        s.append("}\n");
        return s.toString();
    }

    private static void line(StringBuilder s, String key, String value) {
        s.append("        ").append(key).append(" = ").append(value).append(";\n");
    }

    private static String quoted(String value) {
        // Values are restricted to characters that need no escaping inside a Nix string.
        return "\"" + value + "\"";
    }
}

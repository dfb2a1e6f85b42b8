package dev.flotilla.statemachine;

import com.google.protobuf.CodedOutputStream;
import dev.flotilla.proto.VmSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A fingerprint of the fields that shape the machine itself. Two specs with the same hash build the
 * same machine, so a warm VM can serve either; names, ports, pools and placement are left out.
 */
public final class SpecHash {
    private SpecHash() {}

    public static String of(VmSpec raw) {
        VmSpec s = SpecRules.normalize(raw);
        // Copy field by field, so a field added to VmSpec later does not silently change every hash.
        VmSpec shape = VmSpec.newBuilder()
                .setRuntime(s.getRuntime())
                .setRootfs(s.getRootfs())
                .setKernel(s.getKernel())
                .addAllCmd(s.getCmdList())
                .addAllEnv(s.getEnvList())
                .setResources(s.getResources())
                .setHypervisor(s.getHypervisor())
                .addAllPrograms(s.getProgramsList())
                .setHostname(s.getHostname())
                .addAllFirewall(s.getFirewallList())
                .setFs(s.getFs())
                .build();
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            out.useDeterministicSerialization();
            shape.writeTo(out);
            out.flush();
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}

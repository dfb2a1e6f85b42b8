# The Flotilla package: the node jar, its runtime dependencies and a `flotilla` launcher,
# built with nixpkgs' maven.buildMavenPackage from the repository's Maven reactor.
#
# mvnHash is a placeholder. buildMavenPackage first fetches every Maven dependency (and protoc,
# which the proto module takes from Maven Central; it is a static binary, so it runs in the
# sandbox) into a fixed-output derivation whose hash must be known. On the first build on a real
# Nix host, `nix build ./nix#default` fails with "hash mismatch ... got: sha256-..."; put that
# value here. Any change to a pom.xml's dependencies changes it again.
{ lib, maven, jre_headless, runtimeShell, src, version ? "0.1.0-SNAPSHOT" }:

maven.buildMavenPackage {
  pname = "flotilla";
  inherit version src;

  mvnHash = lib.fakeHash;

  # The node module and what it needs; tests need qemu, libvirt and real clusters, which the
  # repository's own test run covers (.ci/run), not the package build.
  mvnParameters = "-pl node -am -DskipTests";
  doCheck = false;

  installPhase = ''
    runHook preInstall

    share=$out/share/flotilla
    install -Dm644 node/target/flotilla-node.jar $share/flotilla-node.jar
    cp -r node/target/lib $share/lib

    # The launcher: the same command line as the repository's bin/flotilla. The classpath
    # wildcard is expanded by java, not by the shell (hence the quotes); FLOTILLA_JAVA_OPTS is
    # split into words on purpose.
    mkdir -p $out/bin
    cat > $out/bin/flotilla <<EOF
    #!${runtimeShell}
    exec ${jre_headless}/bin/java \$FLOTILLA_JAVA_OPTS -cp "$share/flotilla-node.jar:$share/lib/*" dev.flotilla.node.cli.Flotilla "\$@"
    EOF
    chmod 755 $out/bin/flotilla

    runHook postInstall
  '';

  meta = {
    description = "Replicated control plane for virtual machines (Raft, RocksDB, microvm.nix)";
    mainProgram = "flotilla";
    platforms = [ "x86_64-linux" "aarch64-linux" ];
  };
}

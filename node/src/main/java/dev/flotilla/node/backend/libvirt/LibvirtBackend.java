package dev.flotilla.node.backend.libvirt;

import dev.flotilla.node.backend.Backend;
import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.VmStatus;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo;
import org.libvirt.Error;
import org.libvirt.ErrorCallback;
import org.libvirt.LibvirtException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Runs VMs as libvirt domains through libvirt-java: create defines the domain from {@link DomainXml},
 * start boots it, stop asks the guest to shut down and destroys it after a grace period, delete
 * undefines it. It touches only domains carrying Flotilla's metadata, never an operator's own.
 * One connection per backend (test:///default keeps its state per connection).
 */
public final class LibvirtBackend implements Backend {

    // undefine flags: also drop a managed-save image and snapshot metadata, which otherwise block undefine.
    private static final int UNDEFINE_MANAGED_SAVE = 1, UNDEFINE_SNAPSHOTS_METADATA = 2;
    private static final Duration POLL = Duration.ofMillis(100);

    private final String uri;
    private final DomainXml.Options options;
    private final Duration stopGrace;
    private final Connect conn;

    /**
     * @param uri       the libvirt connection URI ({@code libvirt.uri}), e.g. qemu:///system or test:///default
     * @param stopGrace how long stop waits for the guest's own shutdown before destroying it
     */
    public LibvirtBackend(String uri, DomainXml.Options options, Duration stopGrace) throws BackendException {
        this.uri = uri;
        this.options = options;
        this.stopGrace = stopGrace;
        try {
            // Errors come back as exceptions with their message; libvirt's default handler would also
            // print each one to the node's stderr, including the expected "domain not found".
            Connect.setErrorCallback(new ErrorCallback());
            this.conn = new Connect(uri);
        } catch (LibvirtException e) {
            throw new BackendException("libvirt: cannot connect to " + uri + ": " + e.getMessage()
                    + ". Check libvirt.uri, that libvirtd (or virtqemud) is running, and that the node's user may use it (e.g. is in group libvirt)", e);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new BackendException("libvirt: cannot load the libvirt library (" + e.getMessage()
                    + "). Install it (Debian: apt-get install libvirt0) or remove libvirt from this node's backends", new Exception(e));
        }
    }

    @Override
    public String name() {
        return "libvirt";
    }

    @Override
    public synchronized void create(VmInstance vm) throws BackendException {
        String uuid = "";
        Optional<Domain> existing = lookup(vm.name());
        if (existing.isPresent()) {
            requireOurs(vm.name(), existing.get());
            uuid = call(vm, "read the UUID of", () -> existing.get().getUUIDString());
        }
        String xml;
        try {
            xml = DomainXml.of(vm, options, uuid);
        } catch (DomainXml.InvalidSpec e) {
            throw new BackendException("libvirt VM '" + vm.name() + "': " + e.getMessage());
        }
        try {
            conn.domainDefineXML(xml);
        } catch (LibvirtException e) {
            throw new BackendException("libvirt VM '" + vm.name() + "': " + uri + " rejected the domain definition: " + e.getMessage()
                    + ". " + hintForDefine(e.getMessage()) + " The XML was:\n" + xml, e);
        }
    }

    @Override
    public synchronized void start(VmInstance vm) throws BackendException {
        Domain d = ours(vm);
        int state = state(vm, d);
        switch (state) {
            case DomainStatus.RUNNING, DomainStatus.BLOCKED, DomainStatus.NOSTATE -> {
                return;
            }
            case DomainStatus.PAUSED -> call(vm, "resume", () -> {
                d.resume();
                return null;
            });
            case DomainStatus.PMSUSPENDED -> throw new BackendException("libvirt VM '" + vm.name()
                    + "': the guest suspended itself; wake it with `virsh dompmwakeup " + vm.name() + "`");
            case DomainStatus.SHUTDOWN -> throw new BackendException("libvirt VM '" + vm.name()
                    + "': still shutting down; start it again once it is shut off");
            default -> call(vm, "start", () -> d.create());
        }
    }

    @Override
    public void stop(VmInstance vm) throws BackendException {
        Domain d;
        synchronized (this) {
            Optional<Domain> found = lookup(vm.name());
            if (found.isEmpty()) {
                return;
            }
            d = found.get();
            requireOurs(vm.name(), d);
            if (!active(vm, d)) {
                return;
            }
            try {
                d.shutdown();
            } catch (LibvirtException e) {
                // A guest without ACPI cannot be asked; destroying it is the only way, and it is what stop promises.
                destroy(vm, d);
                return;
            }
        }
        long deadline = System.nanoTime() + stopGrace.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (this) {
                if (!active(vm, d)) {
                    return;
                }
            }
            try {
                Thread.sleep(POLL.toMillis()); // waiting on the guest, which gives no event on this connection
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        synchronized (this) {
            if (active(vm, d)) {
                destroy(vm, d);
            }
        }
    }

    private void destroy(VmInstance vm, Domain d) throws BackendException {
        call(vm, "destroy (force off)", () -> {
            d.destroy();
            return null;
        });
    }

    @Override
    public void delete(VmInstance vm) throws BackendException {
        stop(vm);
        synchronized (this) {
            Optional<Domain> found = lookup(vm.name());
            if (found.isEmpty()) {
                return;
            }
            Domain d = found.get();
            requireOurs(vm.name(), d);
            try {
                d.undefine(UNDEFINE_MANAGED_SAVE | UNDEFINE_SNAPSHOTS_METADATA);
            } catch (LibvirtException e) {
                if (!String.valueOf(e.getMessage()).contains("unsupported flags")) {
                    throw failure(vm, "undefine", e);
                }
                // Some drivers take no flags; a plain undefine does the same for them.
                call(vm, "undefine", () -> {
                    d.undefine();
                    return null;
                });
            }
        }
    }

    @Override
    public synchronized VmStatus status(VmInstance vm) throws BackendException {
        Optional<Domain> found = lookup(vm.name());
        if (found.isEmpty()) {
            return VmStatus.absent();
        }
        if (!isOurs(found.get())) {
            return VmStatus.of(dev.flotilla.proto.ObservedState.FAILED, "a domain named '" + vm.name()
                    + "' exists on " + uri + " but was not made by Flotilla; rename or undefine it");
        }
        return DomainStatus.of(state(vm, found.get()), vm.name());
    }

    @Override
    public synchronized List<String> list() throws BackendException {
        TreeSet<String> names = new TreeSet<>();
        try {
            for (int id : conn.listDomains()) {
                lookupById(id).filter(this::isOurs).ifPresent(d -> names.add(nameOf(d)));
            }
            for (String n : conn.listDefinedDomains()) {
                lookup(n).filter(this::isOurs).ifPresent(d -> names.add(n));
            }
        } catch (LibvirtException e) {
            throw new BackendException("libvirt: cannot list domains on " + uri + ": " + e.getMessage(), e);
        }
        names.remove("");
        return new ArrayList<>(names);
    }

    @Override
    public synchronized void close() {
        try {
            conn.close();
        } catch (LibvirtException ignored) {
            // closing is best effort; the process ends the connection anyway
        }
    }

    /** The one connection, for tests that must reach the domains it holds (test:///default state is per connection). */
    Connect connection() {
        return conn;
    }

    private Domain ours(VmInstance vm) throws BackendException {
        Domain d = lookup(vm.name()).orElseThrow(() -> new BackendException("libvirt VM '" + vm.name()
                + "': no such domain on " + uri + "; create it first (the agent does so on assignment)"));
        requireOurs(vm.name(), d);
        return d;
    }

    private void requireOurs(String name, Domain d) throws BackendException {
        if (!isOurs(d)) {
            throw new BackendException("libvirt VM '" + name + "': a domain named '" + name + "' already exists on " + uri
                    + " and was not made by Flotilla, so it is left alone. Rename or undefine it (virsh undefine " + name
                    + ") or give the VM another name");
        }
    }

    private boolean isOurs(Domain d) {
        try {
            return d.getXMLDesc(0).contains(DomainXml.NAMESPACE);
        } catch (LibvirtException e) {
            return false;
        }
    }

    private boolean active(VmInstance vm, Domain d) throws BackendException {
        return call(vm, "query the activity of", () -> d.isActive()) == 1;
    }

    /** The domain's virDomainState number (see {@link DomainStatus}). */
    private int state(VmInstance vm, Domain d) throws BackendException {
        DomainInfo info;
        try {
            info = d.getInfo();
        } catch (LibvirtException e) {
            throw failure(vm, "read the state of", e);
        } catch (ArrayIndexOutOfBoundsException e) {
            // libvirt-java 0.5.2 maps the state number onto an enum that ends at CRASHED; the only
            // newer state libvirt has is PMSUSPENDED.
            return DomainStatus.PMSUSPENDED;
        }
        return info.state.ordinal();
    }

    private Optional<Domain> lookup(String name) throws BackendException {
        try {
            return Optional.of(conn.domainLookupByName(name));
        } catch (LibvirtException e) {
            if (notFound(e)) {
                return Optional.empty();
            }
            throw new BackendException("libvirt: cannot look up domain '" + name + "' on " + uri + ": " + e.getMessage(), e);
        }
    }

    private Optional<Domain> lookupById(int id) throws LibvirtException {
        try {
            return Optional.of(conn.domainLookupByID(id));
        } catch (LibvirtException e) {
            if (notFound(e)) {
                return Optional.empty(); // it stopped between listing and lookup
            }
            throw e;
        }
    }

    private static String nameOf(Domain d) {
        try {
            return d.getName();
        } catch (LibvirtException e) {
            return "";
        }
    }

    private static boolean notFound(LibvirtException e) {
        return e.getError() != null && e.getError().getCode() == Error.ErrorNumber.VIR_ERR_NO_DOMAIN;
    }

    /** A libvirt call whose failure becomes a BackendException naming the VM and the operation. */
    private interface Call<T> {
        T run() throws LibvirtException;
    }

    private <T> T call(VmInstance vm, String what, Call<T> c) throws BackendException {
        try {
            return c.run();
        } catch (LibvirtException e) {
            throw failure(vm, what, e);
        }
    }

    private BackendException failure(VmInstance vm, String what, LibvirtException e) {
        return new BackendException("libvirt VM '" + vm.name() + "': could not " + what + " the domain on " + uri + ": "
                + e.getMessage() + ". See `virsh -c " + uri + " dominfo " + vm.name() + "` and the libvirt log", e);
    }

    private String hintForDefine(String message) {
        String m = String.valueOf(message);
        if (m.contains("already exists")) {
            return "Another domain holds this name or UUID; undefine it or give the VM another name.";
        }
        if (m.contains("domain type") || m.contains("virt type") || m.contains("emulator")) {
            return "libvirt.domain_type is '" + options.domainType() + "'; use kvm where /dev/kvm exists and qemu for software emulation.";
        }
        if (m.contains("XML") || m.contains("xml")) {
            return "The generated XML is not valid for this libvirt; report it with the XML below.";
        }
        return "Check the spec's kernel, rootfs and resources, and the libvirt log.";
    }
}

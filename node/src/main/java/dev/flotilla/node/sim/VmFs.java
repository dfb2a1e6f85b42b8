package dev.flotilla.node.sim;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.FileChange;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A VM's own in-memory filesystem: absolute paths, directories made with mkdir (which makes parents),
 * and a quota counting file bytes plus path bytes (so empty files and directories are not free).
 * Every change is also kept, coalesced per path, until {@link #drain} hands it out for replication;
 * a directory travels as its path with a trailing '/'.
 */
final class VmFs {
    static final int MAX_PATH = 255;
    private static final byte[] DIR = new byte[0];

    private final long quota;
    private final TreeMap<String, byte[]> files = new TreeMap<>();
    private final TreeSet<String> dirs = new TreeSet<>();
    private long used;
    private LinkedHashMap<String, byte[]> dirty; // path -> new bytes, or null when removed
    private long dirtyBytes;
    long coalescedWrites;

    VmFs(long quota) {
        this.quota = quota;
        dirs.add("/");
    }

    long used() {
        return used;
    }

    long quota() {
        return quota;
    }

    boolean hasChanges() {
        return dirty != null && !dirty.isEmpty();
    }

    /** Loads files the log already holds; they are not changes. Paths ending in '/' are directories. */
    void seed(Map<String, byte[]> seed) {
        new TreeMap<>(seed).forEach((path, data) -> {
            if (path.endsWith("/") && path.length() > 1) {
                mkdirs(check(path.substring(0, path.length() - 1)), false);
            } else {
                String p = check(path);
                mkdirs(parent(p), false);
                byte[] old = files.put(p, data);
                used += data.length + (old == null ? p.length() : -old.length);
            }
        });
    }

    /** Normalises and checks a path; a bad one is a Lua-visible error message. */
    static String check(String path) {
        if (path.isEmpty() || path.charAt(0) != '/') {
            throw new IllegalArgumentException("path '" + path + "' must be absolute (start with /)");
        }
        if (path.length() > MAX_PATH) {
            throw new IllegalArgumentException("path is " + path.length() + " bytes; the limit is " + MAX_PATH);
        }
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        for (String part : p.substring(1).split("/", -1)) {
            if (p.length() > 1 && (part.isEmpty() || part.equals(".") || part.equals(".."))) {
                throw new IllegalArgumentException("path '" + path + "' has an empty, '.' or '..' part");
            }
        }
        return p;
    }

    private static String parent(String p) {
        int i = p.lastIndexOf('/');
        return i <= 0 ? "/" : p.substring(0, i);
    }

    byte[] read(String path) {
        return files.get(check(path));
    }

    boolean exists(String path) {
        String p = check(path);
        return files.containsKey(p) || dirs.contains(p);
    }

    /** Writes or appends; returns null on success or the reason it was refused. */
    String write(String path, byte[] data, boolean append) {
        String p = check(path);
        if (dirs.contains(p)) {
            return "'" + p + "' is a directory";
        }
        if (!dirs.contains(parent(p))) {
            return "no directory '" + parent(p) + "' (make it with fs.mkdir)";
        }
        byte[] old = files.get(p);
        byte[] next = data;
        if (append && old != null) {
            next = new byte[old.length + data.length];
            System.arraycopy(old, 0, next, 0, old.length);
            System.arraycopy(data, 0, next, old.length, data.length);
        }
        long delta = next.length + (old == null ? p.length() : -old.length);
        if (used + delta > quota) {
            return "quota exceeded: " + (used + delta) + " bytes needed, quota " + quota;
        }
        files.put(p, next);
        used += delta;
        change(p, next);
        return null;
    }

    /** Removes a file or an empty directory; returns null on success or the reason it was refused. */
    String remove(String path) {
        String p = check(path);
        byte[] old = files.remove(p);
        if (old != null) {
            used -= old.length + p.length();
            change(p, null);
            return null;
        }
        if (dirs.contains(p) && !p.equals("/")) {
            if (!children(p).isEmpty()) {
                return "directory '" + p + "' is not empty";
            }
            dirs.remove(p);
            used -= p.length();
            change(p + "/", null);
            return null;
        }
        return "no such file or directory '" + p + "'";
    }

    /** Makes a directory and its parents; returns null on success or the reason it was refused. */
    String mkdir(String path) {
        String p = check(path);
        if (files.containsKey(p)) {
            return "'" + p + "' is a file";
        }
        return mkdirs(p, true);
    }

    private String mkdirs(String p, boolean track) {
        if (dirs.contains(p)) {
            return null;
        }
        String up = parent(p);
        if (files.containsKey(up)) {
            return "'" + up + "' is a file";
        }
        String err = mkdirs(up, track);
        if (err != null) {
            return err;
        }
        if (track && used + p.length() > quota) {
            return "quota exceeded: " + (used + p.length()) + " bytes needed, quota " + quota;
        }
        dirs.add(p);
        used += p.length();
        if (track) {
            change(p + "/", DIR);
        }
        return null;
    }

    /** Names directly inside a directory (directories end in '/'), sorted; null when it is none. */
    List<String> list(String path) {
        String p = check(path);
        return dirs.contains(p) ? children(p) : null;
    }

    private List<String> children(String dir) {
        String prefix = dir.equals("/") ? "/" : dir + "/";
        List<String> out = new ArrayList<>();
        for (String d : tail(dirs, prefix)) {
            if (!d.startsWith(prefix)) {
                break;
            }
            String rest = d.substring(prefix.length());
            if (!rest.isEmpty() && rest.indexOf('/') < 0) {
                out.add(rest + "/");
            }
        }
        for (String f : files.tailMap(prefix, false).keySet()) {
            if (!f.startsWith(prefix)) {
                break;
            }
            String rest = f.substring(prefix.length());
            if (rest.indexOf('/') < 0) {
                out.add(rest);
            }
        }
        out.sort(null);
        return out;
    }

    private static NavigableSet<String> tail(TreeSet<String> set, String from) {
        return set.tailSet(from, false);
    }

    private void change(String path, byte[] data) {
        if (dirty == null) {
            dirty = new LinkedHashMap<>();
        }
        if (dirty.containsKey(path)) {
            byte[] old = dirty.remove(path);
            coalescedWrites++;
            dirtyBytes -= (old == null ? 0 : old.length) + path.length();
        }
        dirty.put(path, data);
        dirtyBytes += (data == null ? 0 : data.length) + path.length();
    }

    /**
     * Hands out pending changes in the order they were first made, up to {@code maxBytes} (always at
     * least one change, so an oversized file still goes out alone).
     */
    List<FileChange> drain(long maxBytes) {
        List<FileChange> out = new ArrayList<>();
        if (dirty == null) {
            return out;
        }
        long bytes = 0;
        Iterator<Map.Entry<String, byte[]>> it = dirty.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, byte[]> e = it.next();
            long size = (e.getValue() == null ? 0 : e.getValue().length) + e.getKey().length();
            if (!out.isEmpty() && bytes + size > maxBytes) {
                break;
            }
            FileChange.Builder b = FileChange.newBuilder().setPath(e.getKey());
            if (e.getValue() == null) {
                b.setRemoved(true);
            } else {
                b.setData(ByteString.copyFrom(e.getValue()));
            }
            out.add(b.build());
            bytes += size;
            dirtyBytes -= size;
            it.remove();
        }
        return out;
    }

    long pendingBytes() {
        return dirtyBytes;
    }
}

package dev.flotilla.node.net;

import java.util.function.BiConsumer;

/** An open-addressing map from IPv4 int to a value; no boxing on the packet path. Not thread-safe. */
public final class IpMap<V> {
    private int[] keys;
    private Object[] values;
    private int size;

    public IpMap() {
        this(16);
    }

    public IpMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new int[cap];
        values = new Object[cap];
    }

    private static int slot(int key, int mask) {
        int h = key * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }

    @SuppressWarnings("unchecked")
    public V get(int key) {
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            Object v = values[i];
            if (v == null) {
                return null;
            }
            if (keys[i] == key) {
                return (V) v;
            }
        }
    }

    /** Puts a non-null value; returns the old one. */
    @SuppressWarnings("unchecked")
    public V put(int key, V value) {
        if (value == null) {
            throw new IllegalArgumentException("IpMap holds no null values; use remove");
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            Object v = values[i];
            if (v == null) {
                keys[i] = key;
                values[i] = value;
                size++;
                return null;
            }
            if (keys[i] == key) {
                values[i] = value;
                return (V) v;
            }
        }
    }

    @SuppressWarnings("unchecked")
    public V remove(int key) {
        int mask = keys.length - 1;
        int i = slot(key, mask);
        while (true) {
            if (values[i] == null) {
                return null;
            }
            if (keys[i] == key) {
                break;
            }
            i = (i + 1) & mask;
        }
        V old = (V) values[i];
        values[i] = null;
        size--;
        // Re-insert the rest of the cluster so lookups never stop early at the hole.
        for (int j = (i + 1) & mask; values[j] != null; j = (j + 1) & mask) {
            int k = keys[j];
            Object v = values[j];
            values[j] = null;
            size--;
            put(k, (V) v);
        }
        return old;
    }

    public int size() {
        return size;
    }

    @SuppressWarnings("unchecked")
    public void forEach(BiConsumer<Integer, V> action) {
        for (int i = 0; i < keys.length; i++) {
            if (values[i] != null) {
                action.accept(keys[i], (V) values[i]);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private void grow() {
        int[] oldKeys = keys;
        Object[] oldValues = values;
        keys = new int[oldKeys.length * 2];
        values = new Object[oldValues.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != null) {
                put(oldKeys[i], (V) oldValues[i]);
            }
        }
    }

    @Override
    public String toString() {
        return "IpMap(size=" + size + ", capacity=" + keys.length + ")";
    }
}

package dev.flotilla.node.sim;

import java.util.ArrayList;
import java.util.function.Consumer;

/**
 * A hashed timing wheel: one slot per tick modulo its size, so scheduling and firing cost O(1) per
 * entry and a tick with nothing due costs one empty-list check. Entries further out than one turn wait
 * in their slot until their tick comes round.
 */
final class TimerWheel {
    /** A wake-up for a process: a sleep ending (timerId null) or a timer firing. */
    record Entry(LuaProcess process, long due, org.luaj.vm2.LuaValue timerId) {
    }

    private final ArrayList<Entry>[] slots;
    private final int mask;
    private int size;

    @SuppressWarnings("unchecked")
    TimerWheel(int slotsPowerOfTwo) {
        slots = new ArrayList[slotsPowerOfTwo];
        mask = slotsPowerOfTwo - 1;
    }

    void add(Entry e) {
        int i = (int) (e.due() & mask);
        ArrayList<Entry> s = slots[i];
        if (s == null) {
            s = slots[i] = new ArrayList<>(4);
        }
        s.add(e);
        size++;
    }

    /** Fires every entry due at {@code tick} (in the order they were added). */
    void advance(long tick, Consumer<Entry> fire) {
        int i = (int) (tick & mask);
        ArrayList<Entry> s = slots[i];
        if (s == null || s.isEmpty()) {
            return;
        }
        ArrayList<Entry> due = null;
        int keep = 0;
        for (int k = 0; k < s.size(); k++) {
            Entry e = s.get(k);
            if (e.due() <= tick) {
                if (due == null) {
                    due = new ArrayList<>();
                }
                due.add(e);
            } else {
                s.set(keep++, e);
            }
        }
        s.subList(keep, s.size()).clear();
        if (due != null) {
            size -= due.size();
            // Fire after compaction: a handler may add entries to this very slot.
            due.forEach(fire);
        }
        if (s.isEmpty()) {
            slots[i] = null;
        }
    }

    int size() {
        return size;
    }
}

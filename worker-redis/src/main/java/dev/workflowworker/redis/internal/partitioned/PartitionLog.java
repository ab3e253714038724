package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.redis.internal.client.StreamEntries;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the owner of one partition knows of it as a log, from the moment it opened the partition
 * ({@code partition_open.lua}) under its lease: the committed position, the entries read since in
 * stream order, which of them are settled, and the event ids of recent completions. The owner
 * moves the position over the settled prefix with each commit; it never changes Redis itself:
 * the scripts do, each checking the lease. See docs/ARCHITECTURE.md, "Ordered processing".
 * Thread-safe: readers and the workers settling outcomes share it.
 */
public final class PartitionLog {

    /** Recent completions remembered per partition, for recognising a duplicate publish. */
    static final int RECENT_CAP = 16_384;

    /** The position as last sent to Redis by this owner (or read at open), and the entries up to it. */
    private String committed;
    private long committedCount;
    /** An entry read and not yet passed by the position: one lookup finds what a commit changes. */
    private static final class Entry {
        final String id;
        boolean settled;
        /** In the partition's settled set in Redis: removed from it when the position passes the entry. */
        boolean inRedis;
        boolean passed;

        Entry(String id) {
            this.id = id;
        }
    }

    /** Entries read and not yet passed by the position, in stream order. */
    private final ArrayDeque<Entry> order = new ArrayDeque<>();
    /** The entries of {@link #order} by id, for lookups. */
    private final Map<String, Entry> inOrder = new HashMap<>();
    /**
     * Entries not (yet) read by this log that are in the partition's settled set in Redis (settled
     * at open, or ahead of the reader); entries of {@link #order} carry {@link Entry#inRedis} instead.
     */
    private final Set<String> settledInRedis;
    /** Settled before this log read them (settled at open, or by an outcome that raced a reopen). */
    private final Set<String> settledAhead;
    private final Map<String, String> heldMarks;
    /**
     * Entries read whose held mark is in Redis as far as this log knows (read with one, or held
     * since): their commit drops it at any attempt, since a hold for a lost lease keeps attempt 1.
     */
    private final Set<String> marked = new HashSet<>();
    private final Recent recent;
    /** The last id read: the next read starts after it. */
    private String cursor;
    /**
     * Which open of the partition this log is (the log's field {@code e} in Redis, counted up by
     * each open): every outcome script refuses an outcome stamped with an earlier one.
     */
    private final String opened;

    private PartitionLog(String committed, long committedCount, Set<String> settledAtOpen, Map<String, String> held,
                         Recent recent, String opened) {
        this.opened = opened;
        this.committed = committed;
        this.committedCount = committedCount;
        this.cursor = committed;
        this.settledInRedis = new HashSet<>(settledAtOpen);
        this.settledAhead = new HashSet<>(settledAtOpen);
        this.heldMarks = held;
        this.recent = recent;
    }

    /**
     * The log as {@code partition_open.lua} answered: {committed id, committed count, settled ids,
     * held (flat pairs), recent (packed strings, oldest first), the open's number}.
     */
    static PartitionLog opened(List<?> reply) {
        String committed = StreamEntries.text(reply.get(0));
        long count = StreamEntries.number(reply.get(1));
        Set<String> settled = new HashSet<>();
        for (Object id : (List<?>) reply.get(2)) {
            settled.add(StreamEntries.text(id));
        }
        Map<String, String> held = new HashMap<>();
        List<?> pairs = (List<?>) reply.get(3);
        for (int i = 0; i + 1 < pairs.size(); i += 2) {
            held.put(StreamEntries.text(pairs.get(i)), StreamEntries.text(pairs.get(i + 1)));
        }
        Recent recent = new Recent(RECENT_CAP);
        for (Object packed : (List<?>) reply.get(4)) {
            try {
                unpack(StreamEntries.text(packed), recent);
            } catch (RuntimeException malformed) {
                // Written by something else than a commit: its ids are not remembered, nothing else is lost.
            }
        }
        return new PartitionLog(committed, count, settled, held, recent, StreamEntries.text(reply.get(5)));
    }

    /**
     * {@return the first argument of every outcome script of this log: the lease value it was
     * opened under and which open it is} An outcome whose reply was lost may still reach Redis
     * after the partition was opened again; stamped with this open, it then changes nothing
     * (partition_owner.lua; docs/ARCHITECTURE.md, "Why a stale reader cannot lose, duplicate or
     * reorder").
     */
    String stamp(String leaseValue) {
        return leaseValue + "#" + opened;
    }

    /**
     * Event ids as the commit packs them: the count, '|', then each id as "length:id" with its
     * length in UTF-8 bytes (as Lua counts), so an id may hold any character.
     */
    static String pack(List<String> eventIds) {
        // Counted first and sized once: the count leads, and building the rest apart then joining
        // copied every commit's ids twice more (docs/BENCHMARKS.md, "jjvm3").
        int n = 0;
        int chars = 12;
        for (String e : eventIds) {
            if (e != null && !e.isEmpty()) {
                n++;
                chars += e.length() + 4;
            }
        }
        if (n == 0) {
            return "";
        }
        StringBuilder out = new StringBuilder(chars).append(n).append('|');
        for (String e : eventIds) {
            if (e != null && !e.isEmpty()) {
                appendLength(out, utf8Length(e)).append(':').append(e);
            }
        }
        return out.toString();
    }

    /** Appends a length in decimal; ids are nearly always under 100 bytes, which need no formatting call. */
    private static StringBuilder appendLength(StringBuilder out, int len) {
        if (len < 10) {
            return out.append((char) ('0' + len));
        }
        if (len < 100) {
            return out.append((char) ('0' + len / 10)).append((char) ('0' + len % 10));
        }
        return out.append(len);
    }

    static void unpack(String packed, Recent into) {
        byte[] b = packed.getBytes(StandardCharsets.UTF_8);
        int at = packed.indexOf('|') + 1;
        while (at < b.length) {
            int colon = at;
            while (b[colon] != ':') {
                colon++;
            }
            int len = Integer.parseInt(new String(b, at, colon - at, StandardCharsets.US_ASCII));
            into.add(new String(b, colon + 1, len, StandardCharsets.UTF_8));
            at = colon + 1 + len;
        }
    }

    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }


    synchronized String cursor() {
        return cursor;
    }

    /** {@return whether the oldest entry read above the committed position is settled}: a commit would move it. */
    synchronized boolean headSettled() {
        return !order.isEmpty() && order.peekFirst().settled;
    }

    /** {@return how many entries were read above the committed position}: the reader stops at a bound. */
    synchronized int readAbove() {
        return order.size();
    }

    /**
     * Records an entry read, in stream order. {@return false when it is settled already, so it is
     * not to run}
     */
    synchronized boolean read(String id) {
        cursor = id;
        Entry e = new Entry(id);
        order.addLast(e);
        inOrder.put(id, e);
        if (!settledAhead.isEmpty() && settledAhead.remove(id)) {
            e.settled = true;
            e.inRedis = settledInRedis.remove(id);
            return false;
        }
        return true;
    }

    /** {@return the held mark of an entry read ({@code attempt:dueMillis}), once, or null} */
    synchronized String takeHeldMark(String id) {
        String mark = heldMarks.remove(id);
        if (mark != null) {
            marked.add(id);
        }
        return mark;
    }

    /** A retry's hold of an entry read was recorded in Redis: its commit drops the mark. */
    synchronized void heldMarkRecorded(String id) {
        marked.add(id);
    }

    /** {@return whether the event completed lately in this partition} */
    synchronized boolean completedRecently(String eventId) {
        return eventId != null && !eventId.isEmpty() && recent.contains(eventId);
    }

    /**
     * Arguments of {@code partition_commit.lua} (after the lease value) settling {@code ids}, and
     * remembering {@code eventIds} as completed. The entries count as settled here at once; if
     * Redis refuses the commit the lease is lost and this log with it, and if its outcome is
     * unknown the partition is opened again from what Redis holds.
     */
    synchronized List<String> commit(Collection<String> ids, List<String> eventIds, Collection<String> heldIds) {
        // Settled in this call: the entries read (still in order after the pass below unless it
        // passed them) and the ids not read yet. Most commits of a busy partition have no
        // ids ahead; the lists are sized for that.
        List<Entry> freshRead = new ArrayList<>(ids.size());
        List<String> freshAhead = null;
        for (String id : ids) {
            Entry e = inOrder.get(id);
            if (e != null) {
                e.settled = true;
                freshRead.add(e);
            } else if (settleAhead(id)) {
                if (freshAhead == null) {
                    freshAhead = new ArrayList<>();
                }
                freshAhead.add(id);
            }
        }
        List<String> remove = new ArrayList<>(0);
        String newCommitted = null;
        long passed = 0;
        while (!order.isEmpty() && order.peekFirst().settled) {
            Entry e = order.pollFirst();
            inOrder.remove(e.id);
            e.passed = true;
            newCommitted = e.id;
            passed++;
            if (e.inRedis) {
                remove.add(e.id);
            }
        }
        if (newCommitted != null) {
            committed = newCommitted;
            committedCount += passed;
        }
        List<String> add = new ArrayList<>(0);
        for (Entry e : freshRead) {
            if (!e.passed && !e.inRedis) {
                e.inRedis = true;
                add.add(e.id);
            }
        }
        if (freshAhead != null) {
            for (String id : freshAhead) {
                if (settledInRedis.add(id)) {
                    add.add(id);
                }
            }
        }
        String packed = pack(eventIds);
        for (String e : eventIds) {
            if (e != null) {
                recent.add(e);
            }
        }
        Collection<String> dropHeld = heldIds;
        if (!marked.isEmpty()) {
            for (String id : ids) {
                if (marked.remove(id) && !heldIds.contains(id)) {
                    if (dropHeld == heldIds) {
                        dropHeld = new ArrayList<>(heldIds);
                    }
                    dropHeld.add(id);
                }
            }
        }
        List<String> args = new ArrayList<>(8 + add.size() + remove.size() + dropHeld.size());
        args.add(newCommitted == null ? "" : newCommitted);
        args.add(Long.toString(committedCount));
        args.add(Integer.toString(RECENT_CAP));
        args.add(packed);
        args.add(Integer.toString(add.size()));
        args.addAll(add);
        args.add(Integer.toString(remove.size()));
        args.addAll(remove);
        args.add(Integer.toString(dropHeld.size()));
        args.addAll(dropHeld);
        return args;
    }

    /** An entry settled in Redis by a script of its own (a dead letter): the next commit moves the position over it. */
    synchronized void settledElsewhere(String id) {
        marked.remove(id); // the dead letter's script dropped the mark
        Entry e = inOrder.get(id);
        if (e != null) {
            e.settled = true;
            e.inRedis = true;
        } else if (settleAhead(id)) {
            settledInRedis.add(id);
        }
    }

    /**
     * An entry settled that this log has not read: remembered so the read skips it.
     * {@return false for an entry the position has passed already (settled before a reopen)}
     */
    private boolean settleAhead(String id) {
        if (compare(id, committed) <= 0) {
            return false;
        }
        settledAhead.add(id);
        return true;
    }

    /** Stream ids in stream order: milliseconds, then sequence, both unsigned 64-bit. */
    static int compare(String a, String b) {
        int da = a.indexOf('-');
        int db = b.indexOf('-');
        int ms = Long.compareUnsigned(Long.parseUnsignedLong(a.substring(0, da)), Long.parseUnsignedLong(b.substring(0, db)));
        return ms != 0 ? ms : Long.compareUnsigned(Long.parseUnsignedLong(a.substring(da + 1)),
                Long.parseUnsignedLong(b.substring(db + 1)));
    }


    /**
     * The event ids of the last {@code cap} completions, the oldest forgotten first: a ring of the
     * ids and an open-addressing index of their hashes into it. A {@code LinkedHashSet} of them
     * cost a node per completion, its lookups and evictions showed in profiles (docs/BENCHMARKS.md,
     * "JVM path"); here a lookup compares stored hashes and touches an id only on a match, and
     * nothing is allocated per completion. Each index cell holds the hash and the ring slot in one
     * {@code long} (one cache line per probe, not two), and each ring slot knows its cell, so
     * forgetting the oldest needs no lookup of it, which read the old id's string and its hash
     * from memory gone cold (docs/BENCHMARKS.md, "JVM CPU per event: the frames cut (session 15)").
     * Not thread-safe: the log's monitor guards it.
     */
    static final class Recent {
        private final String[] ring;
        /** Index: hash in the high half, ring slot + 1 in the low half, 0 for empty; linear probing. */
        private final long[] cells;
        /** For each ring slot, the index cell that points at it. */
        private final int[] cellOf;
        private final int mask;
        private int next;
        private int size;

        Recent(int cap) {
            ring = new String[cap];
            cellOf = new int[cap];
            int tableSize = Integer.highestOneBit(Math.max(2, cap) * 2 - 1) << 1; // a power of two >= 2 cap
            cells = new long[tableSize];
            mask = tableSize - 1;
        }

        private static int hash(String id) {
            int h = id.hashCode() * 0x9E3779B9;
            return h ^ (h >>> 16);
        }

        private static int hashOf(long cell) {
            return (int) (cell >>> 32);
        }

        private static int slotOf(long cell) {
            return (int) cell - 1;
        }

        boolean contains(String id) {
            return indexOf(id, hash(id)) >= 0;
        }

        int size() {
            return size;
        }

        private int indexOf(String id, int h) {
            for (int i = h & mask; ; i = (i + 1) & mask) {
                long cell = cells[i];
                if (cell == 0) {
                    return -1;
                }
                if (hashOf(cell) == h && ring[slotOf(cell)].equals(id)) {
                    return i;
                }
            }
        }

        /** Remembers an id not remembered yet, forgetting the oldest when full; an empty id is never remembered. */
        void add(String id) {
            if (id.isEmpty()) {
                return;
            }
            int h = hash(id);
            if (indexOf(id, h) >= 0) {
                return;
            }
            if (size == ring.length) {
                deleteAt(cellOf[next]);
            } else {
                size++;
            }
            ring[next] = id;
            int i = h & mask;
            while (cells[i] != 0) {
                i = (i + 1) & mask;
            }
            cells[i] = (long) h << 32 | (next + 1L);
            cellOf[next] = i;
            next = next + 1 == ring.length ? 0 : next + 1;
        }

        /** Empties index cell i, moving back later cells of its probe run so every lookup still finds them. */
        private void deleteAt(int i) {
            int j = i;
            while (true) {
                cells[i] = 0;
                int home;
                do {
                    j = (j + 1) & mask;
                    if (cells[j] == 0) {
                        return;
                    }
                    home = hashOf(cells[j]) & mask;
                    // a cell stays where it is when its home lies cyclically in (i, j]
                } while (i <= j ? i < home && home <= j : i < home || home <= j);
                cells[i] = cells[j];
                cellOf[slotOf(cells[j])] = i;
                i = j;
            }
        }
    }

    @Override
    public synchronized String toString() {
        return "log at " + committed + " (" + committedCount + " committed, " + order.size() + " read above)";
    }
}

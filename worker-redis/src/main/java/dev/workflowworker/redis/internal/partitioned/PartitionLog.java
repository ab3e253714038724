package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.redis.internal.client.StreamEntries;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
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
    /** Entries read and not yet passed by the position, in stream order. */
    private final ArrayDeque<String> order = new ArrayDeque<>();
    /** The ids of {@link #order}, for lookups. */
    private final Set<String> inOrder = new HashSet<>();
    /** Entries of {@link #order} that are settled. */
    private final Set<String> settled = new HashSet<>();
    /** Entries in the partition's settled set in Redis: removed from it when the position passes them. */
    private final Set<String> settledInRedis;
    /** Settled before this log read them (settled at open, or by an outcome that raced a reopen). */
    private final Set<String> settledAhead;
    private final Map<String, String> heldMarks;
    private final Set<String> recent;
    /** The last id read: the next read starts after it. */
    private String cursor;

    private PartitionLog(String committed, long committedCount, Set<String> settledAtOpen, Map<String, String> held,
                         Set<String> recent) {
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
     * held (flat pairs), recent (packed strings, oldest first)}.
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
        Set<String> recent = boundedSet();
        for (Object packed : (List<?>) reply.get(4)) {
            try {
                unpack(StreamEntries.text(packed), recent);
            } catch (RuntimeException malformed) {
                // Written by something else than a commit: its ids are not remembered, nothing else is lost.
            }
        }
        return new PartitionLog(committed, count, settled, held, recent);
    }

    /**
     * Event ids as the commit packs them: the count, '|', then each id as "length:id" with its
     * length in UTF-8 bytes (as Lua counts), so an id may hold any character.
     */
    static String pack(List<String> eventIds) {
        StringBuilder out = new StringBuilder();
        int n = 0;
        for (String e : eventIds) {
            if (e != null && !e.isEmpty()) {
                out.append(utf8Length(e)).append(':').append(e);
                n++;
            }
        }
        return n == 0 ? "" : n + "|" + out;
    }

    static void unpack(String packed, Set<String> into) {
        byte[] b = packed.getBytes(StandardCharsets.UTF_8);
        int at = packed.indexOf('|') + 1;
        while (at < b.length) {
            int colon = at;
            while (b[colon] != ':') {
                colon++;
            }
            int len = Integer.parseInt(new String(b, at, colon - at, StandardCharsets.US_ASCII));
            remember(into, new String(b, colon + 1, len, StandardCharsets.UTF_8));
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

    private static Set<String> boundedSet() {
        return new LinkedHashSet<>();
    }

    private static void remember(Set<String> recent, String eventId) {
        if (eventId.isEmpty() || !recent.add(eventId)) {
            return;
        }
        if (recent.size() > RECENT_CAP) {
            var it = recent.iterator();
            it.next();
            it.remove();
        }
    }

    synchronized String cursor() {
        return cursor;
    }

    /** {@return whether the oldest entry read above the committed position is settled}: a commit would move it. */
    synchronized boolean headSettled() {
        return !order.isEmpty() && settled.contains(order.peekFirst());
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
        order.addLast(id);
        inOrder.add(id);
        if (settledAhead.remove(id)) {
            settled.add(id);
            return false;
        }
        return true;
    }

    /** {@return the held mark of an entry read ({@code attempt:dueMillis}), once, or null} */
    synchronized String takeHeldMark(String id) {
        return heldMarks.remove(id);
    }

    /** {@return whether the event completed lately in this partition} */
    synchronized boolean completedRecently(String eventId) {
        return eventId != null && recent.contains(eventId);
    }

    /**
     * Arguments of {@code partition_commit.lua} (after the lease value) settling {@code ids}, and
     * remembering {@code eventIds} as completed. The entries count as settled here at once; if
     * Redis refuses the commit the lease is lost and this log with it, and if its outcome is
     * unknown the partition is opened again from what Redis holds.
     */
    synchronized List<String> commit(Collection<String> ids, List<String> eventIds, Collection<String> heldIds) {
        List<String> fresh = new ArrayList<>(ids.size());
        for (String id : ids) {
            if (markSettled(id)) {
                fresh.add(id);
            }
        }
        Set<String> passed = new LinkedHashSet<>();
        String newCommitted = null;
        while (!order.isEmpty() && settled.remove(order.peekFirst())) {
            newCommitted = order.pollFirst();
            inOrder.remove(newCommitted);
            passed.add(newCommitted);
        }
        if (newCommitted != null) {
            committed = newCommitted;
            committedCount += passed.size();
        }
        List<String> add = new ArrayList<>();
        for (String id : fresh) {
            if (!passed.contains(id) && settledInRedis.add(id)) {
                add.add(id);
            }
        }
        List<String> remove = new ArrayList<>();
        for (String id : passed) {
            if (settledInRedis.remove(id)) {
                remove.add(id);
            }
        }
        String packed = pack(eventIds);
        for (String e : eventIds) {
            if (e != null) {
                remember(recent, e);
            }
        }
        List<String> args = new ArrayList<>(8 + add.size() + remove.size() + heldIds.size());
        args.add(newCommitted == null ? "" : newCommitted);
        args.add(Long.toString(committedCount));
        args.add(Integer.toString(RECENT_CAP));
        args.add(packed);
        args.add(Integer.toString(add.size()));
        args.addAll(add);
        args.add(Integer.toString(remove.size()));
        args.addAll(remove);
        args.add(Integer.toString(heldIds.size()));
        args.addAll(heldIds);
        return args;
    }

    /** An entry settled in Redis by a script of its own (a dead letter): the next commit moves the position over it. */
    synchronized void settledElsewhere(String id) {
        if (markSettled(id)) {
            settledInRedis.add(id);
        }
    }

    /** {@return false for an entry the position has passed already (settled before a reopen)} */
    private boolean markSettled(String id) {
        if (inOrder.contains(id)) {
            settled.add(id);
            return true;
        }
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


    @Override
    public synchronized String toString() {
        return "log at " + committed + " (" + committedCount + " committed, " + order.size() + " read above)";
    }
}

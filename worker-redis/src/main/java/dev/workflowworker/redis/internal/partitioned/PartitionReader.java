package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.order.KeySequencer;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.Replies;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import dev.workflowworker.redis.internal.partitioned.Partitions.Lease;
import dev.workflowworker.redis.internal.partitioned.Partitions.Part;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The reader of the owned partitions: takes what may start from the {@link KeySequencer}, and
 * when nothing may, reads the partitions as logs (opening each under its lease first) and
 * buffers what it read, or waits on Redis for news. One worker reads at a time ({@code
 * fetchLock}); the others wait on the sequencer. Buffering goes through {@link
 * Partitions#offerUnder}, under the monitor that a lease's loss takes too. See
 * docs/ARCHITECTURE.md, "Ordered processing" and "Why partitions are read as logs".
 */
final class PartitionReader {

    /** Entries read from one partition per round trip. */
    static final int READ_COUNT = 256;
    /** Entries read above a partition's committed position before its reader waits for the position to move. */
    static final int READ_AHEAD_LIMIT = 100_000;
    /**
     * How long a worker that found the fetch lock held waits before looking again, at most. The
     * holder wakes it when it lets go of the lock, so this only bounds a wake that never comes.
     */
    private static final long FETCH_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final Partitions partitions;
    private final StreamClient client;
    private final RedisOptions options;
    private final StreamKeys keys;
    private final TimeSource clock;
    private final Part[] parts;
    private final KeySequencer sequencer;
    /** Shared with {@link Partitions}: see its fields of the same names. */
    private final Map<String, Lease> out;
    private final Map<String, Lease> offeredUnder;
    private final ReentrantLock fetchLock = new ReentrantLock();
    /** Workers waiting for {@link #fetchLock}: the holder wakes them when it lets go. */
    private final AtomicInteger waitingForFetch = new AtomicInteger();
    /** The reader's blocking wait for new entries, and what cuts it short. */
    private final ReaderWait readerWait;
    private final Outcomes outcomes;
    /** Under {@link #fetchLock}: whether the next round waits for more entries first. */
    private final ReadLinger linger = new ReadLinger();
    /** What may be read when the buffer is at its limit. */
    private final BufferLimit limit;

    PartitionReader(Partitions partitions, StreamClient client, Part[] parts, KeySequencer sequencer,
            Map<String, Lease> out, Map<String, Lease> offeredUnder, ReaderWait readerWait, Outcomes outcomes) {
        this.partitions = partitions;
        this.client = client;
        this.options = client.options();
        this.keys = client.keys();
        this.clock = client.clock();
        this.parts = parts;
        this.sequencer = sequencer;
        this.out = out;
        this.offeredUnder = offeredUnder;
        this.readerWait = readerWait;
        this.outcomes = outcomes;
        this.limit = new BufferLimit(partitions, parts, sequencer);
    }

    /**
     * Takes up to {@code max} deliveries, reading the owned partitions when nothing buffered may
     * start, and waiting up to {@code maxWait} for one.
     */
    List<Delivery> read(int max, Duration maxWait) throws InterruptedException {
        long deadline = clock.nanoTime() + maxWait.toNanos();
        while (true) {
            List<KeySequencer.Taken> taken = sequencer.take(max);
            if (!taken.isEmpty()) {
                List<Delivery> ds = new ArrayList<>(taken.size());
                for (KeySequencer.Taken t : taken) {
                    String id = t.delivery().id();
                    // The lease it was read under, not the partition's current one: if that was
                    // lost, another owner may have run it since, and its outcome must be refused.
                    Lease l = offeredUnder.remove(id);
                    if (l == null || l.lost) {
                        // Taken while its lease was being lost: never started, nothing to refuse.
                        sequencer.settled(id);
                        continue;
                    }
                    out.put(id, l);
                    ds.add(t.delivery());
                }
                if (!ds.isEmpty()) {
                    limit.afterTake(taken);
                    return ds;
                }
                continue;
            }
            long remaining = deadline - clock.nanoTime();
            if (partitions.closed() || remaining <= 0) {
                return List.of();
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            // Counted before the lock is tried and the signals read before too: a holder that lets
            // go in between either sees the count and wakes this worker, or left the lock free.
            waitingForFetch.incrementAndGet();
            long seen = sequencer.signals();
            if (!fetchLock.tryLock()) {
                try {
                    // Idle workers used to look again every 20 ms: a few ms of CPU per second per process.
                    sequencer.await(Math.min(remaining, FETCH_RECHECK_NANOS), seen);
                } finally {
                    waitingForFetch.decrementAndGet();
                }
                continue;
            }
            waitingForFetch.decrementAndGet();
            try {
                // At the limit, only partitions with few entries waiting here are read, opened and
                // waited on: the buffer fills with the entries of partitions whose keys take few
                // (one key among many entries), and the others' keys would wait for it to drain
                // (docs/BENCHMARKS.md, "j16c: where a 16-keys round goes"; "j17read").
                int room = limit.room();
                if (room != Integer.MAX_VALUE && limit.awaitIfNoneLow(room, remaining, seen)) {
                    continue;
                }
                long lingering = linger.nanosToWait(clock.nanoTime());
                if (lingering > 0) {
                    // Deliveries that become ready meanwhile cut the wait short and are taken above.
                    sequencer.await(Math.min(lingering, remaining));
                    continue;
                }
                int found = fetch(room);
                linger.afterRound(found, clock.nanoTime());
                if (found > 0) {
                    continue;
                }
                long untilDue = sequencer.millisUntilNextDue();
                long ms = Math.min(TimeUnit.NANOSECONDS.toMillis(remaining), untilDue);
                if (ms > 0) {
                    // Found after a wait for news: the next round does not linger (ReadLinger).
                    linger.afterRound(blockForNews(ms, room, seen), clock.nanoTime());
                }
            } finally {
                fetchLock.unlock();
                if (waitingForFetch.get() > 0) {
                    sequencer.wake();
                }
            }
        }
    }

    /**
     * One pipelined round of reads over the owned partitions; returns how many entries were
     * buffered. A read changes nothing in Redis: a partition is read as a log from its owner's
     * cursor, so a read whose reply was lost is simply sent again, and a process that lost its
     * lease may read but not settle anything (docs/ARCHITECTURE.md, "Ordered processing").
     */
    private int fetch(int room) {
        List<Part> readable = new ArrayList<>();
        List<Part> onDownNodes = new ArrayList<>(0);
        int owned = 0;
        int ownedDown = 0;
        boolean anyDown = client.nodes().anyDown();
        boolean atLimit = room != Integer.MAX_VALUE;
        // At the limit a round may read fewer partitions than qualify: each round starts at the next.
        int start = atLimit ? limit.nextStart() : 0;
        for (int k = 0; k < parts.length; k++) {
            Part part = parts[(start + k) % parts.length];
            Lease l = part.lease;
            if (l == null || l.lost || part.releasing) {
                continue;
            }
            owned++;
            boolean down = anyDown && client.nodes().isDown(keys.partitionStream(part.index));
            if (down) {
                ownedDown++;
            }
            if (part.readerLease != l) {
                part.readerLease = l;
                part.readable = false;
                part.rewind = false;
                part.log = null;
                part.quiet = false;
            }
            if (!part.readable) {
                // Events of an earlier lease of this partition may still run here; reading its
                // unsettled entries now would start their keys' next events beside them.
                if (sequencer.outstanding(part.index) > 0) {
                    continue;
                }
                part.readable = true;
            }
            if (part.rewind) {
                // Reopened only once every outcome of the partition in flight has landed: they
                // settle against the log they were read with, and the reopen then reads Redis
                // with all of them in it (otherwise one could run again, or stay unsettled).
                if (sequencer.outstanding(part.index) > 0) {
                    continue;
                }
                part.rewind = false;
                part.log = null;
            }
            if (part.quiet && part.log != null) {
                continue;
            }
            if (atLimit && (readable.size() + onDownNodes.size() >= room || !limit.low(part))) {
                continue;
            }
            (down ? onDownNodes : readable).add(part);
        }
        if (ownedDown == owned) {
            // Every node of ours is down: read anyway, so that a round that reaches none tells
            // the engine that Redis is unavailable.
            readable.addAll(onDownNodes);
        }
        if (readable.isEmpty()) {
            return 0;
        }
        open(readable, owned);
        // Bounded memory: entries read above the committed position wait for a settled prefix
        // (a retry held long holds the position back while later keys go on).
        readable.removeIf(part -> part.log == null || part.log.readAbove() >= READ_AHEAD_LIMIT);
        if (readable.isEmpty()) {
            return 0;
        }
        List<PartitionLog> logs = new ArrayList<>(readable.size());
        for (Part part : readable) {
            logs.add(part.log);
        }
        int n = readable.size();
        boolean everyOwned = n == owned;
        // Each read goes with a plain GET of the lease: a read cannot be refused, but a process
        // that lost its lease learns it here rather than at its next renewal, and drops the batch.
        Replies replies = client.call("read partitions", () -> reachedAny(Topology.sendEach(client.redis(), 2 * n,
                i -> i < n ? new CommandArguments(Protocol.Command.GET).key(keys.partitionLease(readable.get(i).index))
                        : new CommandArguments(Protocol.Command.XREAD).add("COUNT").add(READ_COUNT).add("STREAMS")
                                .key(keys.partitionStream(readable.get(i - n).index)).add(logs.get(i - n).cursor()),
                i -> keys.partitionStream(readable.get(i % n).index), (i, e) -> false, 0, 0, () -> "read partitions",
                null, true, client.nodes()), everyOwned));
        int offered = 0;
        for (int i = 0; i < n; i++) {
            Part part = readable.get(i);
            PartitionLog log = logs.get(i);
            if (replies.failed(i) || replies.failed(n + i)) {
                // Its node failed: read again next round; the other nodes' partitions go on meanwhile.
                part.quiet = false;
                continue;
            }
            if (!part.readerLease.value.equals(StreamEntries.text(replies.get(i)))) {
                partitions.lost(part.readerLease, "another owner holds it or it expired");
                continue;
            }
            offered += buffer(part, log, xreadEntries(replies.get(n + i)));
        }
        return offered;
    }

    /**
     * Buffers what one read of {@code part} returned from its cursor, under the lease it was read
     * with; returns how many entries were offered.
     */
    private int buffer(Part part, PartitionLog log, List<?> entries) {
        // Fewer than asked for: read up to the end, so the blocking wait from the cursor covers it.
        part.quiet = entries.size() < READ_COUNT;
        List<Delivery> batch = new ArrayList<>(entries.size());
        List<Long> dues = new ArrayList<>(entries.size());
        for (Object e : entries) {
            List<?> entry = (List<?>) e;
            String id = StreamEntries.text(entry.get(0));
            if (!(entry.get(1) instanceof List<?> raw) || !log.read(id)) {
                continue;
            }
            Delivery d = StreamEntries.toDelivery(Partitions.deliveryId(part.index, id), raw, client.codec());
            String mark = log.takeHeldMark(id);
            long due = 0;
            if (mark != null) {
                int colon = mark.indexOf(':');
                int attempt = Integer.parseInt(mark.substring(0, colon));
                due = Math.max(1, Long.parseLong(mark.substring(colon + 1)));
                d = new Delivery(d.id(), d.event(), Math.max(1, attempt), d.fields(), d.decodeError());
            }
            batch.add(d);
            dues.add(due);
        }
        int offered = partitions.offerUnder(part, part.readerLease, batch, dues);
        if (log.headSettled()) {
            // Entries settled already (skipped here) at the head: move the position over them
            // now, as no outcome of them will.
            outcomes.advance(part.readerLease);
        }
        return offered;
    }

    /**
     * Opens the partitions that have no log under their lease yet, one pipelined round trip: the
     * committed position, settled entries, held retries and recent completions, read after the
     * lease was taken. A partition whose lease is gone by then is lost.
     */
    private void open(List<Part> readable, int owned) {
        List<Part> closed = new ArrayList<>();
        for (Part part : readable) {
            if (part.log == null) {
                closed.add(part);
            }
        }
        if (closed.isEmpty()) {
            return;
        }
        List<Part> fromStart = opened(closed, open(closed, false, closed.size() == owned));
        if (!fromStart.isEmpty()) {
            opened(fromStart, open(fromStart, true, false));
        }
    }

    /**
     * Gives each partition opened the log its open answered. {@return those whose log has no position}:
     * opened again with the stream and the completed set of earlier versions (partition_open.lua)
     */
    private List<Part> opened(List<Part> closed, Replies replies) {
        List<Part> fromStart = new ArrayList<>(0);
        for (int i = 0; i < closed.size(); i++) {
            Part part = closed.get(i);
            if (replies.failed(i)) {
                continue; // its node failed: opened on a later round
            }
            if (replies.get(i) instanceof List<?> state) {
                part.log = PartitionLog.opened(state);
            } else if (replies.get(i) instanceof Long) {
                fromStart.add(part);
            } else {
                partitions.lost(part.readerLease, "its lease was gone when the partition was opened");
            }
        }
        return fromStart;
    }

    private Replies open(List<Part> closed, boolean fromStart, boolean everyOwned) {
        return client.call("open partitions", () -> reachedAny(client.scripts().partitionOpen.evalEach(
                client.redis(), closed.size(),
                i -> fromStart ? PartitionKeys.openFromStart(keys, closed.get(i).index)
                        : PartitionKeys.open(keys, closed.get(i).index),
                i -> List.of(closed.get(i).readerLease.value, options.group(),
                        Integer.toString(PartitionLog.RECENT_CAP)), 0, 0, null, true, client.nodes()),
                everyOwned));
    }

    /**
     * {@return the replies of a round} A round over every partition this process reads whose
     * every call failed reached no node: that is thrown, so the engine sees Redis unavailable.
     * Otherwise a failed call concerns its own partition only (docs/ARCHITECTURE.md, "Redis Cluster").
     */
    private static Replies reachedAny(Replies r, boolean everyOwned) {
        return everyOwned ? r.requireAny() : r;
    }

    /** The entries of an XREAD reply for one stream: [[key, entries]], or nil when there are none. */
    private static List<?> xreadEntries(Object reply) {
        if (reply instanceof List<?> streams && !streams.isEmpty() && streams.get(0) instanceof List<?> one
                && one.size() > 1 && one.get(1) instanceof List<?> entries) {
            return entries;
        }
        return List.of();
    }

    /**
     * Waits on Redis for a new entry in any readable partition, up to {@code ms}; a delivery that
     * becomes ready meanwhile (a settled key's next event, a due retry) cuts the wait short.
     * Buffers the entries the wait read (on one server); returns how many were offered.
     */
    private int blockForNews(long ms, int room, long seen) throws InterruptedException {
        if (room == Integer.MAX_VALUE) {
            return blockForNews(ms, room, null);
        }
        // At the limit the wait covers only partitions with few entries waiting (its reply buffers
        // up to READ_COUNT of each it returns for), so a take that leaves another partition so
        // must cut it short: published before the counts are read, so such a take either sees
        // it or left its count for the loop below to see (docs/ARCHITECTURE.md, "Ordered processing").
        boolean[] covered = limit.beginWait();
        try {
            if (sequencer.signals() != seen) {
                return 0; // a wake since the lock was tried: look again first
            }
            return blockForNews(ms, room, covered);
        } finally {
            limit.endWait();
        }
    }

    private int blockForNews(long ms, int room, boolean[] covered) throws InterruptedException {
        List<String> keys = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        Map<String, Part> waited = new HashMap<>();
        Map<String, PartitionLog> logs = new HashMap<>();
        for (Part part : parts) {
            Lease l = part.lease;
            PartitionLog log = part.log;
            if (l != null && !l.lost && !part.releasing && part.readable && part.readerLease == l && log != null
                    && log.readAbove() < READ_AHEAD_LIMIT && (covered == null || keys.size() < room && limit.low(part))) {
                String key = this.keys.partitionStream(part.index);
                keys.add(key);
                ids.add(log.cursor());
                waited.put(key, part);
                logs.put(key, log);
                if (covered != null) {
                    covered[part.index] = true;
                }
            }
        }
        if (client.nodes().anyDown()) {
            // A down node's partitions are not waited on: its polls would wait out the socket timeout.
            List<String> liveKeys = new ArrayList<>(keys.size());
            List<String> liveIds = new ArrayList<>(keys.size());
            for (int i = 0; i < keys.size(); i++) {
                if (!client.nodes().isDown(keys.get(i))) {
                    liveKeys.add(keys.get(i));
                    liveIds.add(ids.get(i));
                }
            }
            if (!liveKeys.isEmpty()) {
                keys = liveKeys;
                ids = liveIds;
            }
        }
        if (keys.isEmpty()) {
            sequencer.await(TimeUnit.MILLISECONDS.toNanos(Math.min(ms, 50)));
            return 0;
        }
        Map<String, List<?>> news = readerWait.await(keys, ids, ms, READ_COUNT);
        if (news == null) {
            for (Part part : parts) {
                part.quiet = false;
            }
            return 0;
        }
        List<String> withEntries = new ArrayList<>();
        for (Map.Entry<String, List<?>> e : news.entrySet()) {
            Part part = waited.get(e.getKey());
            if (part != null && e.getValue() != null && stillReads(part, logs.get(e.getKey()))) {
                withEntries.add(e.getKey());
            } else if (part != null) {
                part.quiet = false;
            }
        }
        List<String> holders = leaseHolders(withEntries, waited);
        int offered = 0;
        for (int i = 0; i < withEntries.size(); i++) {
            Part part = waited.get(withEntries.get(i));
            if (holders != null && part.readerLease.value.equals(holders.get(i))) {
                offered += buffer(part, logs.get(withEntries.get(i)), news.get(withEntries.get(i)));
            } else {
                // Redis no longer names this lease (lost with its data, a failover, a deletion): the
                // next round's read, with its GET, finds out; nothing runs under it meanwhile.
                part.quiet = false;
            }
        }
        return offered;
    }

    /**
     * The lease keys' values of the partitions of {@code streams}, one {@code MGET} (a wait returns
     * entries on one server only); null when Redis did not answer. The lease clock alone let a
     * handler run under a lease Redis had lost with its data (FencingAfterDataLossTest).
     */
    private List<String> leaseHolders(List<String> streams, Map<String, Part> waited) {
        String[] leaseKeys = streams.stream().map(k -> keys.partitionLease(waited.get(k).index)).toArray(String[]::new);
        try {
            return leaseKeys.length == 0 ? List.of() : client.redis().mget(leaseKeys);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Whether what the wait read from {@code part} may be buffered, once Redis still names its
     * lease ({@link #leaseHolders}): the reader still reads the partition as it did when the wait
     * began, and the lease holds by the lease clock (its validity ends before Redis could expire it).
     */
    private static boolean stillReads(Part part, PartitionLog log) {
        Lease l = part.readerLease;
        return l != null && part.lease == l && part.log == log && part.readable && !part.releasing && !part.rewind
                && l.renew(Duration.ZERO);
    }
}

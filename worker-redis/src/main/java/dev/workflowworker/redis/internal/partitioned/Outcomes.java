package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.order.KeySequencer;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.CallFailed;
import dev.workflowworker.redis.internal.client.Replies;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.partitioned.Partitions.Lease;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcomes of deliveries read from partitions: commits (successes, in one script per
 * partition), retry holds, dead letters and hand-backs. A commit, hold or dead letter checks,
 * atomically with its effect, that nobody opened the partition since the open its stamp names
 * ({@link PartitionLog#stamp}: the lease value and open number the log keeps, partition_owner.lua),
 * so one landing after a reopen or another owner's open changes nothing; one refused marks the
 * lease lost. An outcome whose reply is lost makes the partition reopen from what Redis holds
 * (docs/ARCHITECTURE.md, "Why a stale reader cannot lose, duplicate or reorder").
 */
final class Outcomes {

    private static final Logger log = LoggerFactory.getLogger(Outcomes.class);
    /** A commit's or dead letter's answer when the partition was opened again since its log's open. */
    private static final long STALE_OPEN = -2;

    private final Partitions partitions;
    private final StreamClient client;
    private final RedisOptions options;
    private final StreamKeys keys;
    private final KeySequencer sequencer;
    private final PartitionProbe probe;
    /**
     * Deliveries a commit refused and forgot, by identity, until the caller's follow-up (the
     * engine holds a refused success for a retry). Once forgotten, the partition may open again
     * and read the same entry under the same delivery id; a follow-up looked up by that id would
     * act on the copy: forget it (its key's next event starts while it runs) or hold it (a
     * second run of it). Cleared when it outgrows {@link #REFUSED_MEMORY}: a caller that never
     * follows up (a host calling the SPI itself) must not make it grow without bound.
     */
    private final Map<Delivery, Boolean> refusedAndForgotten = new IdentityHashMap<>();
    private volatile int refusedCount;
    private static final int REFUSED_MEMORY = 4_096;

    Outcomes(Partitions partitions, StreamClient client, KeySequencer sequencer, PartitionProbe probe) {
        this.partitions = partitions;
        this.probe = probe;
        this.client = client;
        this.options = client.options();
        this.keys = client.keys();
        this.sequencer = sequencer;
    }

    /**
     * The keys and arguments of one commit of {@code ds} under {@code l}: the log's stamp, then
     * what {@link PartitionLog#commit} says; null when the partition's log is gone with its lease.
     */
    private List<String> commitArgs(Lease l, List<Delivery> ds, boolean remember) {
        PartitionLog log = partitions.logOf(l);
        if (log == null) {
            return null;
        }
        List<String> ids = new ArrayList<>(ds.size());
        List<String> eventIds = new ArrayList<>(remember ? ds.size() : 0);
        List<String> held = new ArrayList<>(0);
        for (Delivery d : ds) {
            String id = Partitions.streamId(d.id());
            ids.add(id);
            if (remember) {
                eventIds.add(d.eventId());
            }
            if (d.attempt() > 1) {
                // a retried entry may have a held mark to drop with its settlement (the log adds
                // those it knows of at any attempt)
                held.add(id);
            }
        }
        List<String> args = new ArrayList<>();
        args.add(log.stamp(l.value));
        args.addAll(log.commit(ids, eventIds, held));
        return args;
    }

    /**
     * Moves the committed position over settled entries at its head, settling nothing new. If it
     * fails, the partition reopens from Redis, as after any outcome whose reply was lost: the log
     * counted the position as moved, and a later commit, though it sends the position whole, does
     * not take the entries passed here out of the settled set (only those it passes itself), so
     * they stayed there below the position until the next open, counted as settled above it (the
     * lag read too low); and after a run of poison at the stream's end no later commit came at all.
     * The reopen reads the settled entries at the head again, skips them, and moves the position.
     */
    void advance(Lease l) {
        try {
            commit(l, List.of());
        } catch (RuntimeException e) {
            log.debug("moving the position of partition {} failed; it reopens from Redis: {}", l.partition,
                    e.toString());
            partitions.unknownOutcome(l, List.of());
        }
    }

    /** Settles deliveries of one lease without remembering their events; false when the lease was lost. */
    private boolean commit(Lease l, List<Delivery> ds) {
        List<String> args = l.lost ? null : commitArgs(l, ds, false);
        if (args == null) {
            return false;
        }
        long r = StreamEntries.number(client.call("commit " + ds.size() + " entries",
                () -> client.evalOnNode(client.scripts().partitionCommit, PartitionKeys.commit(keys, l.partition),
                        args, client.waitReplicas(), true)));
        if (r == STALE_OPEN) {
            // The caller forgets the deliveries, once (as in complete); the partition reopens from Redis.
            partitions.unknownOutcome(l, List.of());
            probe.afterStaleOpen();
            return false;
        }
        if (r < 0) {
            partitions.lost(l, "a commit was refused");
            return false;
        }
        return true;
    }

    /**
     * What became of each delivery of one {@link #complete} call: each is in exactly one list.
     *
     * @param settled their commit stands
     * @param refused not settled: their lease was lost, or the partition opened again since they were read;
     *                pending for the next owner or the partition's reopening
     * @param unknown their commit's reply was lost (or its script failed midway): it may have landed; the
     *                partition reopens from what Redis holds, which runs again only those it did not settle
     * @param failure why some are unknown; null when none is
     */
    record Completion(List<Delivery> settled, List<Delivery> refused, List<Delivery> unknown,
                      RuntimeException failure) {
    }

    /**
     * Commits successes grouped by lease, one script per partition, pipelined. Every delivery not
     * settled is forgotten here, pending for the next owner or the partition's reopening.
     */
    Completion complete(List<Delivery> deliveries, List<Lease> leases) {
        Map<Lease, List<Delivery>> byLease = new HashMap<>();
        List<Delivery> refused = new ArrayList<>(0);
        List<Delivery> unknown = new ArrayList<>(0);
        List<Delivery> settled = new ArrayList<>(deliveries.size());
        RuntimeException failure = null;
        for (int i = 0; i < deliveries.size(); i++) {
            Lease l = leases.get(i);
            if (l.lost) {
                refused.add(deliveries.get(i));
            } else {
                byLease.computeIfAbsent(l, k -> new ArrayList<>()).add(deliveries.get(i));
            }
        }
        if (!byLease.isEmpty()) {
            List<Lease> order = new ArrayList<>(byLease.keySet());
            List<List<String>> args = new ArrayList<>(order.size());
            for (Lease l : order) {
                args.add(commitArgs(l, byLease.get(l), true));
            }
            for (int i = order.size() - 1; i >= 0; i--) {
                if (args.get(i) == null) {
                    refused.addAll(byLease.remove(order.get(i)));
                    order.remove(i);
                    args.remove(i);
                }
            }
            Replies replies = null;
            try {
                replies = order.isEmpty() ? null : client.call("commit " + deliveries.size() + " entries",
                    () -> client.scripts().partitionCommit.evalEach(client.redis(), order.size(),
                            i -> PartitionKeys.commit(keys, order.get(i).partition), args::get,
                            client.waitReplicas(), client.waitMs(), null, true, client.nodes()).requireAny());
            } catch (CallFailed e) {
                // A script failed in one partition (its state is not what the script expects): the
                // others' commits ran, and their replies say how each went.
                replies = e.replies();
                failure = e;
            } catch (RuntimeException e) {
                // Nothing is known of any: each partition reopens from what Redis holds.
                byLease.forEach((l, ds) -> {
                    partitions.unknownOutcome(l, ds);
                    unknown.addAll(ds);
                });
                failure = e;
            }
            List<String> committed = new ArrayList<>(deliveries.size());
            for (int i = 0; replies != null && i < order.size(); i++) {
                Lease l = order.get(i);
                long r = replies.failed(i) ? 0 : StreamEntries.number(replies.get(i));
                if (replies.failed(i)) {
                    // Its node failed (or its script did), the others' commits stand. Whether this one
                    // landed is unknown: the partition reopens from what Redis holds (docs/ARCHITECTURE.md,
                    // "Redis Cluster").
                    log.warn("commit of partition {} failed; it reopens from Redis: {}", l.partition,
                            replies.failure(i).toString());
                    partitions.unknownOutcome(l, byLease.get(l));
                    unknown.addAll(byLease.get(l));
                    failure = failure == null ? replies.failure(i) : failure;
                } else if (r == STALE_OPEN) {
                    // Refused by the script, so certainly not settled; the partition reopens. Forgotten
                    // once, below: a reopen may re-read them under the same ids in between, and a
                    // second forget would settle the copies (their keys' next events would start).
                    partitions.unknownOutcome(l, List.of());
                    probe.afterStaleOpen();
                    refused.addAll(byLease.get(l));
                } else if (r < 0) {
                    partitions.lost(l, "a commit was refused");
                    refused.addAll(byLease.get(l));
                } else {
                    for (Delivery d : byLease.get(l)) {
                        committed.add(d.id());
                        settled.add(d);
                    }
                }
            }
            partitions.forgetAll(committed);
        }
        rememberRefused(refused);
        for (Delivery d : refused) {
            partitions.forget(d.id());
        }
        return new Completion(settled, refused, unknown, failure);
    }

    void hold(Delivery d, long dueAtMillis, int attempt) {
        if (forgottenOnRefusal(d)) {
            return;
        }
        Lease l = partitions.leaseOf(d);
        // The log it was read with: no reopen while one of its deliveries is out.
        PartitionLog log = partitions.logOf(l);
        if (l.lost || log == null) {
            partitions.forget(d.id());
            return;
        }
        long r;
        try {
            r = StreamEntries.number(client.call("hold entry " + d.id() + " for a retry",
                    () -> client.evalOnNode(client.scripts().partitionHold, PartitionKeys.hold(keys, l.partition),
                            List.of(log.stamp(l.value), Partitions.streamId(d.id()), attempt + ":" + dueAtMillis),
                            client.waitReplicas(), true)));
        } catch (RuntimeException e) {
            partitions.unknownOutcome(l, List.of(d));
            throw e;
        }
        if (r == 2 || r == 3) {
            // Settled in Redis while out here, or the partition opened again since: memory and
            // Redis disagree, so read the partition again from Redis.
            partitions.unknownOutcome(l, List.of(d));
        } else if (r == 1) {
            // Its commit drops the mark whatever the attempt (a lost lease holds attempt 1).
            log.heldMarkRecorded(Partitions.streamId(d.id()));
            // Back in the buffer under the same lease; the take that hands it out again checks it.
            if (partitions.requeue(l, d.id(), () -> sequencer.hold(d.id(), dueAtMillis, attempt))) {
                partitions.wake();
            } else {
                // Lost or being given up: the hold is recorded for the next owner, which resumes the key here.
                partitions.forget(d.id());
            }
        } else {
            partitions.lost(l, "a retry could not be recorded");
            partitions.forget(d.id());
        }
    }

    /**
     * {@return false when refused (its lease lost, or the partition opened again): not dead-lettered,
     * the entry stays pending and runs again}
     */
    boolean deadLetter(Delivery d, Map<String, String> fields) {
        if (forgottenOnRefusal(d)) {
            return false;
        }
        Lease l = partitions.leaseOf(d);
        // The log it was read with: no reopen while one of its deliveries is out.
        PartitionLog log = partitions.logOf(l);
        if (l.lost || log == null) {
            partitions.forget(d.id());
            return false;
        }
        List<String> args = new ArrayList<>(3 + fields.size() * 2);
        args.add(log.stamp(l.value));
        args.add(Partitions.streamId(d.id()));
        args.add(Long.toString(options.deadLetterMaxLength()));
        fields.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        long r;
        try {
            r = StreamEntries.number(client.call("dead-letter entry " + d.id(),
                    () -> client.evalOnNode(client.scripts().partitionDeadLetter,
                            PartitionKeys.deadLetter(keys, l.partition),
                            args, client.waitReplicas(), true)));
        } catch (RuntimeException e) {
            partitions.unknownOutcome(l, List.of(d));
            throw e;
        }
        boolean settled = r >= 0;
        if (r == STALE_OPEN) {
            // Forgotten once, below, as in complete: not here too.
            partitions.unknownOutcome(l, List.of());
            probe.afterStaleOpen();
        } else if (r < 0) {
            partitions.lost(l, "a dead letter was refused");
        } else {
            log.settledElsewhere(Partitions.streamId(d.id()));
            if (log.headSettled()) {
                // No success may follow to move the position (a run of poison): move it now,
                // or the read-ahead bound would stop the partition.
                advance(l);
            }
        }
        partitions.forget(d.id());
        return settled;
    }

    /** {@return false when refused (its lease lost, or the partition opened again): the entry stays pending} */
    boolean acknowledge(Delivery d) {
        if (forgottenOnRefusal(d)) {
            return false;
        }
        Lease l = partitions.leaseOf(d);
        boolean settled;
        try {
            settled = commit(l, List.of(d));
        } catch (RuntimeException e) {
            partitions.unknownOutcome(l, List.of(d));
            throw e;
        }
        if (!settled) {
            rememberRefused(List.of(d));
        }
        partitions.forget(d.id());
        return settled;
    }

    private void rememberRefused(List<Delivery> ds) {
        if (ds.isEmpty()) {
            return;
        }
        synchronized (refusedAndForgotten) {
            if (refusedAndForgotten.size() + ds.size() > REFUSED_MEMORY) {
                refusedAndForgotten.clear();
            }
            ds.forEach(d -> refusedAndForgotten.put(d, Boolean.TRUE));
            refusedCount = refusedAndForgotten.size();
        }
    }

    /** {@return whether {@code d} itself (not a copy read again under its id) was refused and forgotten already} */
    private boolean forgottenOnRefusal(Delivery d) {
        if (refusedCount == 0) {
            return false;
        }
        synchronized (refusedAndForgotten) {
            boolean was = refusedAndForgotten.remove(d) != null;
            refusedCount = refusedAndForgotten.size();
            return was;
        }
    }

    void handBack(Delivery d) {
        if (forgottenOnRefusal(d)) {
            return;
        }
        Lease l = partitions.outLease(d.id());
        if (l != null && partitions.requeue(l, d.id(), () -> sequencer.handBack(d.id()))) {
            partitions.wake();
        } else {
            partitions.forget(d.id());
        }
    }
}

package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.partitioned.Partitions.Lease;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Connection;
import redis.clients.jedis.JedisPubSub;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The owner's side of time: for each partition this process holds, moves the delayed events that
 * came due into the partition's stream and fires the schedules that came due, each in one
 * lease-checked script, then sleeps until the earliest due time it was told of. An insert from any
 * process that becomes a partition's earliest names the partition on a pub/sub channel, which cuts
 * the sleep short; a newly held partition is looked at at once. One thread and one connection per
 * process, whatever the partition count. See docs/ARCHITECTURE.md, "Time".
 */
final class PartitionTimers implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PartitionTimers.class);

    /** Events moved per script call: bounds how long one call holds Redis up. */
    static final int MOVE_BATCH = 500;
    /**
     * The longest sleep without news. Pub/sub keeps nothing for a subscriber that is reconnecting,
     * so a wake lost then costs at most this; it is not the precision, which comes from sleeping
     * until the due time and from the wakes.
     */
    private static final long LOOK_AGAIN_MS = 1000;
    /** The pause after a failed round or subscription, before trying again. */
    private static final long RETRY_MS = 200;
    private static final long NONE = Long.MAX_VALUE;

    private final Partitions partitions;
    private final StreamClient client;
    private final RedisOptions options;
    private final StreamKeys keys;
    private final TimeSource clock;
    private final int count;
    private final PartitionSchedules schedules;
    private final String channel;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition news = lock.newCondition();
    /** Partitions named by a wake since the loop last looked; guarded by {@link #lock}. */
    private final boolean[] named;
    private boolean anyNamed;

    // The loop thread's own state.
    /** When each held partition next has something due, in this process's wall clock; {@link #NONE} if nothing waits. */
    private final long[] nextDue;
    /** The lease each partition was last looked at under: a new one is looked at at once. */
    private final Lease[] lookedUnder;
    /** Redis TIME minus this process's wall clock, from the last move: due times are Redis times. */
    private long skewMillis;

    private final Thread loop;
    private final Thread listener;
    private volatile boolean closed;
    private volatile JedisPubSub subscription;
    private volatile Connection subscriber;

    PartitionTimers(Partitions partitions, StreamClient client, PartitionSchedules schedules) {
        this.partitions = partitions;
        this.client = client;
        this.options = client.options();
        this.keys = client.keys();
        this.clock = client.clock();
        this.count = options.partitions();
        this.schedules = schedules;
        this.channel = PartitionKeys.timeWake(options);
        this.named = new boolean[count];
        this.nextDue = new long[count];
        this.lookedUnder = new Lease[count];
        java.util.Arrays.fill(nextDue, NONE);
        this.loop = client.threads().newThread("timers", this::run);
        this.listener = client.threads().newThread("timers-wake", this::listen);
    }

    void start() {
        listener.start();
        loop.start();
    }

    /** Makes the loop look at partition {@code p} now. */
    void wake(int p) {
        lock.lock();
        try {
            if (p >= 0 && p < count) {
                named[p] = true;
            }
            anyNamed = true;
            news.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Makes the loop look at every held partition now: wakes may have been missed. */
    private void wakeAll() {
        lock.lock();
        try {
            java.util.Arrays.fill(named, true);
            anyNamed = true;
            news.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (!closed) {
            long until;
            try {
                until = round();
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                // The partition that failed is looked at again next round (see round()).
                log.warn("moving due delayed events and firing schedules failed; trying again in {} ms: {}",
                        RETRY_MS, e.toString());
                until = clock.wallMillis() + RETRY_MS;
            }
            try {
                sleepUntil(until);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Looks at each held partition that was named, is new, or has something due; {@return when to look again} */
    private long round() {
        boolean[] marked = takeNamed();
        long now = clock.wallMillis();
        long until = now + LOOK_AGAIN_MS;
        for (int i = 0; i < count && !closed; i++) {
            Lease l = partitions.heldLease(i);
            if (l == null) {
                lookedUnder[i] = null;
                nextDue[i] = NONE;
                continue;
            }
            if (marked[i] || lookedUnder[i] != l || nextDue[i] <= now) {
                lookedUnder[i] = null; // looked at again next round if this one fails
                nextDue[i] = Math.min(moveDue(i, l), schedules.fireDue(i, l, skewMillis));
                lookedUnder[i] = l;
            }
            until = Math.min(until, nextDue[i]);
        }
        return until;
    }

    /** Moves partition {@code i}'s due delayed events into its stream; {@return when the next is due, local time} */
    private long moveDue(int i, Lease l) {
        List<String> scriptKeys = List.of(keys.partitionLease(i), PartitionKeys.delayed(keys, i),
                PartitionKeys.delayedEntries(keys, i), keys.partitionStream(i));
        List<String> args = List.of(l.value, Integer.toString(MOVE_BATCH));
        while (true) {
            List<?> r = (List<?>) client.call("move due delayed events of partition " + i,
                    () -> client.scripts().delayedMove.eval(client.redis(), scriptKeys, args,
                            client.waitReplicas(), client.waitMs()));
            long moved = StreamEntries.number(r.get(0));
            if (moved < 0) {
                return NONE; // the lease is not ours any more: the ownership rounds find out
            }
            long redisNext = StreamEntries.number(r.get(1));
            skewMillis = StreamEntries.number(r.get(2)) - clock.wallMillis();
            if (moved < MOVE_BATCH) {
                // A millisecond late rather than early: early, the script finds nothing due yet and
                // the loop asks again at once.
                return redisNext < 0 ? NONE : redisNext - skewMillis + 1;
            }
        }
    }

    private boolean[] takeNamed() {
        lock.lock();
        try {
            boolean[] out = named.clone();
            java.util.Arrays.fill(named, false);
            anyNamed = false;
            return out;
        } finally {
            lock.unlock();
        }
    }

    private void sleepUntil(long wallMillis) throws InterruptedException {
        lock.lock();
        try {
            long ms;
            while (!closed && !anyNamed && (ms = wallMillis - clock.wallMillis()) > 0) {
                news.await(ms, TimeUnit.MILLISECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Listens for wakes on a connection of its own; after each (re)subscription every partition is looked at, for what was missed. */
    private void listen() {
        while (!closed) {
            Connection c = null;
            try {
                c = client.connector().newDedicatedConnection(client.redis(), keys.partitionStream(0));
                subscriber = c;
                JedisPubSub sub = new JedisPubSub() {
                    @Override
                    public void onSubscribe(String ch, int subscribed) {
                        wakeAll();
                    }

                    @Override
                    public void onMessage(String ch, String message) {
                        try {
                            wake(Integer.parseInt(message));
                        } catch (NumberFormatException e) {
                            wakeAll();
                        }
                    }
                };
                subscription = sub;
                if (closed) {
                    return;
                }
                sub.proceed(c, channel);
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                log.debug("the wake subscription on {} failed; subscribing again: {}", channel, e.toString());
            } finally {
                subscription = null;
                subscriber = null;
                if (c != null) {
                    try {
                        c.close();
                    } catch (RuntimeException e) {
                        log.debug("closing the wake connection failed: {}", e.toString());
                    }
                }
            }
            try {
                // Not sleepUntil: a pending wake would cut every pause short while Redis is away.
                TimeUnit.MILLISECONDS.sleep(RETRY_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        lock.lock();
        try {
            news.signalAll();
        } finally {
            lock.unlock();
        }
        JedisPubSub sub = subscription;
        if (sub != null) {
            try {
                sub.unsubscribe();
            } catch (RuntimeException e) {
                log.debug("unsubscribing from wakes failed: {}", e.toString());
            }
        }
        Connection c = subscriber;
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException e) {
                log.debug("closing the wake connection failed: {}", e.toString());
            }
        }
        loop.interrupt();
        listener.interrupt();
    }
}

package dev.workflowworker.redis.internal.time;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.redis.internal.client.StreamClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Connection;
import redis.clients.jedis.JedisPubSub;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The mover's side of time: for each slot this process holds (a partition whose lease it has, or
 * the shared stream while it consumes), moves the delayed events that came due into the slot's
 * stream and fires the schedules that came due, each in one script that checks the slot's lease
 * if it has one, then sleeps until the earliest due time it was told of. An insert from any
 * process that becomes a slot's earliest names the slot on a pub/sub channel, which cuts the
 * sleep short; a newly held slot is looked at at once; and every held slot is looked at once a
 * second whatever the wakes said, so a lost wake costs at most that second. Deadlines are kept on
 * the monotonic clock: a wall-clock step neither delays nor hurries a move. One thread and one
 * connection per process, whatever the slot count. See docs/ARCHITECTURE.md, "Time".
 *
 * @param <L> what a slot is held under (a partition's lease): a new one is looked at at once
 */
public final class TimeLoop<L> implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TimeLoop.class);

    /** Which slots this process moves and fires, and under what. */
    public interface Slots<L> {
        /** {@return what slot {@code i} is held under now, or null when this process must not move it} */
        L held(int i);

        /** {@return the lease value the scripts check for a slot held under {@code l}; '' for a slot without a lease} */
        String leaseValue(L l);
    }

    /**
     * Events moved per look pass, shared among its slots' script calls (each at least
     * {@link TimeLooks#MIN_MOVE_BATCH}): the calls of a pass run back to back on their node, so
     * this bounds how long a pass holds Redis up while it holds at most MOVE_BATCH /
     * MIN_MOVE_BATCH slots; with more, a pass may move up to MIN_MOVE_BATCH per slot (2,400 events
     * at 48 slots on one node).
     */
    static final int MOVE_BATCH = 500;
    /**
     * How often every held partition is looked at, news or not. Pub/sub keeps nothing for a
     * subscriber that is reconnecting, a cluster may drop a message in a failover, and a dead TCP
     * connection can look alive: a wake lost so costs at most this. It is not the precision,
     * which comes from sleeping until the due time and from the wakes.
     */
    static final long LOOK_AGAIN_MS = 1000;
    /** A subscription whose PING went unanswered this long is taken for dead and made again. */
    private static final long PONG_TIMEOUT_MS = 3 * LOOK_AGAIN_MS;
    /** The pause after a failed look or subscription, before trying again. */
    private static final long RETRY_MS = 200;
    /** The quietest the log is about failing looks: during an outage every round fails. */
    private static final long WARN_EVERY_MS = 10_000;
    private static final long NONE = Long.MAX_VALUE;

    private final Slots<L> slots;
    private final StreamClient client;
    private final TimeKeys keys;
    private final TimeSource clock;
    private final int count;
    private final TimeLooks looks;
    private final String channel;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition news = lock.newCondition();
    /** Slots named by a wake since the loop last looked; guarded by {@link #lock}. */
    private final boolean[] named;
    private boolean anyNamed;

    // The loop thread's own state.
    /** When each held slot next has something due, on {@link #monoMillis()}; {@link #NONE} if nothing waits. */
    private final long[] nextDue;
    /** What each slot was last held under when looked at: a new one is looked at at once. */
    private final Object[] lookedUnder;
    /** A round's slots to look at, what each is held under and its lease value: the first n of each. */
    private final int[] looking;
    private final Object[] lookingUnder;
    private final String[] leaseValues;
    /** When every held slot is next looked at, news or not, on {@link #monoMillis()}. */
    private long nextSweep = Long.MIN_VALUE;
    /** When the subscription was last pinged and not answered yet, on {@link #monoMillis()}; 0 when answered. */
    private long pingedAt;
    private long lastWarn = Long.MIN_VALUE;
    /** When the subscription last answered a PING, on {@link #monoMillis()}. */
    private volatile long pongAt;

    private final Thread loop;
    private final Thread listener;
    private volatile boolean closed;
    private volatile JedisPubSub subscription;
    private volatile Connection subscriber;

    public TimeLoop(Slots<L> slots, StreamClient client, TimeKeys keys, ScheduleFiring schedules) {
        this.slots = slots;
        this.client = client;
        this.keys = keys;
        this.clock = client.clock();
        this.count = keys.count();
        this.looks = new TimeLooks(client, keys, schedules);
        this.channel = keys.wake();
        this.named = new boolean[count];
        this.nextDue = new long[count];
        this.lookedUnder = new Object[count];
        this.looking = new int[count];
        this.lookingUnder = new Object[count];
        this.leaseValues = new String[count];
        java.util.Arrays.fill(nextDue, NONE);
        this.loop = client.threads().newThread("timers", this::run);
        this.listener = client.threads().newThread("timers-wake", this::listen);
    }

    public void start() {
        listener.start();
        loop.start();
    }

    /** Makes the loop look at slot {@code p} now. */
    public void wake(int p) {
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

    /** Makes the loop look at every held slot now: wakes may have been missed, or slots were taken. */
    public void wakeAll() {
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
                // round() contains each slot's failure; this is a bug, and the loop must live on.
                log.error("the timers' round failed; trying again in {} ms", RETRY_MS, e);
                until = monoMillis() + RETRY_MS;
            }
            try {
                sleepUntil(until);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Looks at each held slot that was named, is new, has something due or whose second
     * came, all in one pass ({@link TimeLooks}: one pipeline per node); {@return when to look
     * again, on {@link #monoMillis()}}
     */
    private long round() {
        boolean[] marked = takeNamed();
        long now = monoMillis();
        boolean sweep = now >= nextSweep;
        if (sweep) {
            nextSweep = now + LOOK_AGAIN_MS;
            checkSubscription(now);
        }
        long until = nextSweep;
        int n = 0;
        for (int i = 0; i < count; i++) {
            L l = slots.held(i);
            if (l == null) {
                lookedUnder[i] = null;
                nextDue[i] = NONE;
                continue;
            }
            if (sweep || marked[i] || lookedUnder[i] != l || nextDue[i] <= now) {
                looking[n] = i;
                lookingUnder[n] = l;
                leaseValues[n] = slots.leaseValue(l);
                n++;
            } else {
                until = Math.min(until, nextDue[i]);
            }
        }
        if (n == 0 || closed) {
            return until;
        }
        // One slot failing (a script error, a node away) does not hold up the others: it alone is
        // looked at again after a pause (or a wake).
        TimeLooks.Pass pass = looks.look(looking, leaseValues, n, RETRY_MS);
        for (int k = 0; k < n; k++) {
            int i = looking[k];
            nextDue[i] = pass.next()[k];
            lookedUnder[i] = lookingUnder[k];
            until = Math.min(until, nextDue[i]);
        }
        if (pass.failures() > 0 && !closed) {
            warn(pass.failures(), pass.failed());
        }
        return until;
    }

    private void warn(int failures, RuntimeException e) {
        long now = monoMillis();
        if (now - lastWarn >= WARN_EVERY_MS) {
            lastWarn = now;
            log.warn("moving due delayed events and firing schedules failed in {} slot(s); each is tried again "
                    + "in {} ms: {}", failures, RETRY_MS, e.toString());
        } else {
            log.debug("moving due delayed events and firing schedules failed in {} slot(s): {}", failures, e.toString());
        }
    }

    private long monoMillis() {
        return TimeUnit.NANOSECONDS.toMillis(clock.nanoTime());
    }

    /**
     * Pings the subscription, and makes it again when the last PING went unanswered: a connection
     * whose peer vanished without a reset would otherwise look subscribed forever.
     */
    private void checkSubscription(long now) {
        JedisPubSub sub = subscription;
        if (sub == null || !sub.isSubscribed()) {
            pingedAt = 0;
            return;
        }
        if (pingedAt != 0 && pongAt < pingedAt && now - pingedAt > PONG_TIMEOUT_MS) {
            log.warn("the wake subscription on {} did not answer a PING in {} ms; subscribing again", channel,
                    PONG_TIMEOUT_MS);
            pingedAt = 0;
            closeQuietly(subscriber);
            return;
        }
        if (pingedAt == 0 || pongAt >= pingedAt) {
            try {
                pingedAt = now;
                sub.ping();
            } catch (RuntimeException e) {
                log.debug("pinging the wake subscription failed: {}", e.toString());
                closeQuietly(subscriber);
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

    private void sleepUntil(long monoDeadline) throws InterruptedException {
        lock.lock();
        try {
            long ms;
            while (!closed && !anyNamed && (ms = monoDeadline - monoMillis()) > 0) {
                news.await(ms, TimeUnit.MILLISECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Listens for wakes on a connection of its own; after each (re)subscription every slot is looked at, for what was missed. */
    private void listen() {
        while (!closed) {
            Connection c = null;
            try {
                c = client.connector().newDedicatedConnection(client.redis(), keys.stream(0));
                subscriber = c;
                JedisPubSub sub = new JedisPubSub() {
                    @Override
                    public void onSubscribe(String ch, int subscribed) {
                        if (closed) {
                            unsubscribe(); // closed while subscribing: close() found no subscription to end
                            return;
                        }
                        pongAt = monoMillis();
                        wakeAll();
                    }

                    @Override
                    public void onPong(String pattern) {
                        pongAt = monoMillis();
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
                closeQuietly(c);
            }
            try {
                // Not sleepUntil: a pending wake would cut every pause short while Redis is away.
                TimeUnit.MILLISECONDS.sleep(RETRY_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException e) {
                log.debug("closing the wake connection failed: {}", e.toString());
            }
        }
    }

    /**
     * Stops both threads, waiting for them {@link #CLOSE_WAIT_MS} at most: a Redis call in flight
     * (to a hung node, say) ends only with its socket timeout, and nothing here needs it ended.
     * A call landing late does no harm. On a partition every move and firing names the lease it
     * was decided under and the script checks it, so one landing after the hand-over changes
     * nothing. The shared stream has no lease: a late call is one more of the racing movers every
     * consuming process is, and moves or fires nothing twice (a move pops and appends in one
     * script; a firing is a compare-and-set of the schedule's state, refused once another fired it;
     * SharedDelayedTest, SharedSchedulesTest). Its failure once the client is closed is not
     * reported (the loop reports nothing once closed).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
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
        closeQuietly(subscriber);
        loop.interrupt();
        listener.interrupt();
        try {
            long deadline = monoMillis() + CLOSE_WAIT_MS;
            loop.join(CLOSE_WAIT_MS);
            listener.join(Math.max(1, deadline - monoMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (loop.isAlive() || listener.isAlive()) {
            log.debug("a timers thread still runs {} ms after close; it ends with its Redis call", CLOSE_WAIT_MS);
        }
    }

    /** Ample for threads that are not in a Redis call: an interrupted wait and a closed subscription end at once. */
    private static final long CLOSE_WAIT_MS = 200;
}

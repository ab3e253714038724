package dev.workflowworker.redis.internal.shared;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.RedisUnavailableException;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.params.SetParams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A shared-stream consumer's locks taken and released a batch at a time, in its own round trips
 * rather than one per event through {@link KeyLocks}: the locks of a batch taken together with
 * their fencing tokens and markers, and released in the script that completes the batch. The
 * locks it hands out are {@link KeyLocks}' own, so renewal and a single release work on them as
 * on any other. Thread-safe.
 */
final class BatchLocks {

    private final SharedStream shared;
    private final StreamClient client;
    private final StreamKeys keys;
    private final RedisOptions options;
    /** The consumer's check that it and the client are open, run before each round trip. */
    private final Runnable checkOpen;

    /**
     * The least value of a counter seeded from a clock in microseconds (September 2001): a counter
     * below it started from nothing, lost with Redis's data (a restart without persistence), and
     * its tokens are below those drawn before. They are drawn again from a counter seeded from
     * Redis's clock ({@code fence_redraw}), as every other drawing of tokens seeds a missing one
     * (fence.lua): never from this host's, which may run behind. The locks are held meanwhile, so
     * the tokens drawn again still exceed every earlier holder's.
     */
    static final long SEEDED = 1_000_000_000_000_000L;

    BatchLocks(SharedStream shared, Runnable checkOpen) {
        this.shared = shared;
        this.client = shared.client();
        this.options = client.options();
        this.keys = client.keys();
        this.checkOpen = checkOpen;
    }

    /**
     * One pipelined round trip takes the batch's locks, draws their fencing tokens and reads their
     * markers.
     *
     * <p>Plain commands rather than a script: Redis spent about 1.1 µs more per event running the
     * same work as Lua (see ScriptCostScenario in the benchmarks). Each step stays safe without
     * atomicity because of its order. The tokens ({@code INCRBY} by the batch size) are drawn after
     * the {@code SET NX}, while the locks are held, so a later holder of a key, which can only
     * take it after this one let go or lost it, draws later and gets a larger token. The one case
     * where that could fail, a reply delayed past the lease so that another holder got in between,
     * is already a lost lease to the engine, which counts lease time from before the request was
     * sent. Markers are read after the locks are taken, so a completion by a previous holder, which
     * wrote its marker before releasing, is seen.
     */
    List<EventTransport.Acquisition> acquire(List<Delivery> deliveries, Duration ttl) {
        if (deliveries.isEmpty()) {
            return List.of();
        }
        KeyLocks own = shared.locks();
        int n = deliveries.size();
        SetParams take = SetParams.setParams().nx().px(KeyLocks.ttlMillisOf(ttl));
        List<String> lockKeys = new ArrayList<>(n);
        List<String> owners = new ArrayList<>(n);
        String[] markerKeys = new String[n];
        for (int i = 0; i < n; i++) {
            Delivery d = deliveries.get(i);
            lockKeys.add(keys.lockKey(d.event().lockKey()));
            owners.add(own.newOwner());
            markerKeys[i] = keys.processedKey(d.event().eventId());
        }
        checkOpen.run();
        List<Response<String>> taken = new ArrayList<>(n);
        long lastToken;
        List<String> markers;
        try {
            // Not repeated after a connection failure, unlike other calls: a repeat would find its
            // own locks taken and could not tell them from another holder's.
            Object[] replies = client.callOnce("claim " + n + " events", () -> {
                try (AbstractPipeline p = Topology.pipeline(client.redis())) {
                    for (int i = 0; i < n; i++) {
                        // The value ends in '|' like "<owner>|<token>" of single acquisitions, so
                        // renewal and release recognise it by the same owner prefix.
                        taken.add(p.set(lockKeys.get(i), owners.get(i) + "|", take));
                    }
                    // A counter lost with the data starts from nothing: see SEEDED below.
                    Response<Long> top = p.incrBy(keys.fenceKey(), n);
                    Response<List<String>> marks = p.mget(markerKeys);
                    // Tokens lost in a failover would be drawn again by the next holder.
                    Response<Long> acked = client.waitReplicas() > 0
                            ? p.waitReplicas(keys.fenceKey(), client.waitReplicas(), client.waitMs()) : null;
                    p.sync();
                    Object[] result = {top.get(), marks.get()};
                    if (acked != null && acked.get() < client.waitReplicas()) {
                        throw new RedisUnavailableException("claim of " + n + " events reached only " + acked.get()
                                + " of " + client.waitReplicas() + " replica(s) within " + client.waitMs() + " ms", null);
                    }
                    return result;
                }
            });
            lastToken = (Long) replies[0];
            if (lastToken < SEEDED) {
                lastToken = redraw(n);
            }
            @SuppressWarnings("unchecked")
            List<String> m = (List<String>) replies[1];
            markers = m;
        } catch (RuntimeException e) {
            // Some locks may be taken (the reply was lost, or a later command failed). Releasing
            // compares owners, so this deletes only locks this call took.
            List<Lock> maybeTaken = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                maybeTaken.add(own.lockTakenElsewhere(deliveries.get(i).event().lockKey(), lockKeys.get(i),
                        owners.get(i), 0));
            }
            own.releaseAll(maybeTaken);
            throw e;
        }
        long firstToken = lastToken - n + 1;
        List<EventTransport.Acquisition> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            boolean processed = markers.get(i) != null;
            Optional<Lock> lock = taken.get(i).get() == null ? Optional.empty()
                    : Optional.of(own.lockTakenElsewhere(deliveries.get(i).event().lockKey(), lockKeys.get(i),
                            owners.get(i), firstToken + i));
            out.add(new EventTransport.Acquisition(lock, processed));
        }
        return out;
    }

    /** {@return the last of {@code n} tokens drawn again after the counter was found lost} See {@link #SEEDED}. */
    private long redraw(int n) {
        // Safe to repeat after a lost reply: tokens drawn and not handed out are only skipped.
        return StreamEntries.number(client.call("draw " + n + " fencing tokens", () -> client.scripts().fenceRedraw.eval(
                client.redis(), List.of(keys.fenceKey()), List.of(Integer.toString(n), Long.toString(SEEDED)),
                client.waitReplicas(), client.waitMs())));
    }

    /**
     * One script acks the batch, writes its markers and deletes its locks, refusing any delivery
     * whose lock no longer holds its exact value.
     */
    List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held) {
        int n = deliveries.size();
        if (held.size() != n) {
            throw new IllegalArgumentException("one lock per delivery: " + n + " deliveries, " + held.size() + " locks");
        }
        if (n == 0) {
            return List.of();
        }
        KeyLocks own = shared.locks();
        List<String> values = new ArrayList<>(n);
        for (Lock lock : held) {
            String value = own.valueOf(lock);
            if (value == null) {
                throw new IllegalArgumentException("lock " + lock.key() + " is not one of this transport's locks");
            }
            values.add(value);
        }
        List<String> keys = new ArrayList<>(2 * n + 1);
        List<String> args = new ArrayList<>(2 * n + 3);
        keys.add(options.stream());
        for (Lock lock : held) {
            keys.add(KeyLocks.lockKeyOf(lock));
        }
        for (Delivery d : deliveries) {
            keys.add(this.keys.processedKey(d.eventId()));
        }
        args.add(options.group());
        args.add(Long.toString(options.processedTtl().toMillis()));
        args.add(client.clock().instant().toString());
        for (Delivery d : deliveries) {
            args.add(d.id());
        }
        args.addAll(values);
        List<?> reply;
        try {
            checkOpen.run();
            reply = (List<?>) shared.withGroup("complete " + n + " entries",
                    () -> client.scripts().completeRelease.eval(client.redis(), keys, args, client.waitReplicas(), client.waitMs()));
        } catch (RuntimeException e) {
            own.releaseAll(held);
            throw e;
        }
        List<Delivery> refused = new ArrayList<>(0);
        for (int i = 0; i < n; i++) {
            KeyLocks.releasedElsewhere(held.get(i));
            if (StreamEntries.number(reply.get(i)) == 0) {
                refused.add(deliveries.get(i));
            }
        }
        return refused;
    }
}

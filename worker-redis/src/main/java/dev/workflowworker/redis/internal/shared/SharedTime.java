package dev.workflowworker.redis.internal.shared;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.time.DelayedStore;
import dev.workflowworker.redis.internal.time.OccurrenceEnds;
import dev.workflowworker.redis.internal.time.ScheduleFiring;
import dev.workflowworker.redis.internal.time.ScheduleStore;
import dev.workflowworker.redis.internal.time.TimeKeys;
import dev.workflowworker.redis.internal.time.TimeLoop;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * Delayed events and schedules of the shared stream: one slot without a lease, its keys under
 * the stream's hash tag. Every process that consumes the stream runs the time loop; no process
 * owns it: the move and the firing scripts are atomic compare-and-sets, so processes racing
 * neither lose nor double an event or an occurrence. A due event joins the stream (no order is
 * promised on it). See docs/ARCHITECTURE.md, "Time".
 */
final class SharedTime implements AutoCloseable {

    /** What the shared slot is held under: always the same, since no lease is taken. */
    private static final Object UNLEASED = new Object();

    private final DelayedStore delayed;
    private final ScheduleStore schedules;
    private final TimeLoop<Object> loop;
    private final AtomicBoolean started = new AtomicBoolean();

    /**
     * @param consuming whether this process consumes the stream now: only then does it move and
     *                  fire, so producers and the admin tool never do, and a stopped service neither
     */
    private SharedTime(StreamClient client, TimeKeys keys, BooleanSupplier consuming) {
        this.delayed = new DelayedStore(client, keys, e -> 0);
        this.schedules = new ScheduleStore(client, keys, s -> 0,
                e -> client.call("publish event " + e.eventId(),
                        () -> client.xadd(client.options().stream(), client.codec().encode(e, 1))));
        this.loop = new TimeLoop<>(new TimeLoop.Slots<>() {
            @Override
            public Object held(int i) {
                return consuming.getAsBoolean() ? UNLEASED : null;
            }

            @Override
            public String leaseValue(Object held) {
                return ""; // with the stream as the lease key: no lease is checked (delayed_move.lua)
            }
        }, client, keys, new ScheduleFiring(client, keys, schedules, new Ends(client)));
    }

    /** {@return the shared stream's time, or empty on a cluster when its name leaves no key in its slot} */
    static Optional<SharedTime> of(StreamClient client, BooleanSupplier consuming) {
        StreamKeys k = client.keys();
        String tag = k.sharedTime();
        if (tag == null) {
            return Optional.empty();
        }
        String stream = client.options().stream();
        return Optional.of(new SharedTime(client, new TimeKeys(1, i -> tag, i -> stream, null,
                tag + ":sched:home", stream + ":time-wake", false), consuming));
    }

    /** Starts the loop once, when the first consumer opens. */
    void consuming() {
        if (started.compareAndSet(false, true)) {
            loop.start();
        }
    }

    DelayedEvents delayed() {
        return delayed;
    }

    Schedules schedules() {
        return schedules;
    }

    @Override
    public void close() {
        loop.close();
    }

    /** {@return the event id of a delivered schedule occurrence, or null for any other delivery} */
    static String occurrenceId(Delivery d) {
        WorkflowEvent e = d.event();
        return e != null && e.headers().containsKey(Schedule.SCHEDULE_ID_HEADER)
                && e.eventId() != null && !e.eventId().isEmpty() ? e.eventId() : null;
    }

    /**
     * Whether an occurrence on the shared stream finished: its processed marker (completed) or its
     * dead marker (dead-lettered, see dead_letter.lua) exists. Both live {@code processedTtl}, so
     * an occurrence appended longer ago than that counts as finished whatever they say: one still
     * retrying then is taken for finished (see docs/time.md). Read outside the firing script: an
     * occurrence that ends between the read and the firing is seen at the next look.
     */
    private static final class Ends implements OccurrenceEnds {

        private final StreamClient client;
        private final long ttl;

        Ends(StreamClient client) {
            this.client = client;
            RedisOptions options = client.options();
            this.ttl = options.processedTtl().toMillis();
        }

        @Override
        public Look look(int slot, long redisNow) {
            return (eventId, entryId) -> {
                if (entryId == null || appendedAt(entryId) + ttl < redisNow) {
                    return true;
                }
                StreamKeys k = client.keys();
                List<String> markers = List.of(k.processedKey(eventId), k.deadMarkerKey(eventId));
                return client.call("read whether occurrence " + eventId + " finished",
                        () -> client.redis().exists(markers.toArray(new String[0]))) > 0;
            };
        }

        /** The ms part of a stream id: Redis time when the entry was appended. */
        private static long appendedAt(String entryId) {
            int dash = entryId.indexOf('-');
            return Long.parseLong(dash < 0 ? entryId : entryId.substring(0, dash));
        }
    }
}

package dev.workflowworker.redis.internal.time;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.schedule.FireTimes;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleJson;
import dev.workflowworker.core.schedule.ScheduleState;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.resps.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The mover's side of schedules: fires those of a held slot that came due, each in one script
 * that appends the occurrences and swaps the state, if the slot's lease (when it has one) is
 * still the mover's and the state and definition still the ones it computed from; only those the
 * homes hash names this slot's (a copy it does not name is removed, a move it records finished).
 * The API side, from any process, is {@link ScheduleStore}. See docs/ARCHITECTURE.md, "Time".
 */
public final class ScheduleFiring {

    private static final Logger log = LoggerFactory.getLogger(ScheduleFiring.class);

    /** Schedules fired per partition per look: bounds one look's time. */
    static final int FIRE_BATCH = 100;
    /**
     * How soon the owner looks again at a schedule it cannot read or fire (written by a newer
     * version during a rolling upgrade, say): not at once, which would spin, and not never, so an
     * upgraded owner or a put repairs it.
     */
    static final long UNFIREABLE_LOOK_MS = 60_000;
    private static final int PARSED_CACHE = 20_000;

    private final StreamClient client;
    private final TimeKeys keys;
    private final TimeSource clock;
    private final ScheduleStore store;
    private final OccurrenceEnds ends;
    /**
     * Parsed definitions by their JSON, for the owner's thread only: parsing a cron expression
     * costs more than the rest of a firing. Bounded; a changed definition is a new key.
     */
    private final Map<String, FireTimes> parsed = new java.util.LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, FireTimes> eldest) {
            return size() > PARSED_CACHE;
        }
    };

    public ScheduleFiring(StreamClient client, TimeKeys keys, ScheduleStore store, OccurrenceEnds ends) {
        this.client = client;
        this.keys = keys;
        this.clock = client.clock();
        this.store = store;
        this.ends = ends;
    }

    /**
     * Fires the schedules of slot {@code i} due by now, for the holder of its lease: the
     * due batch is read in one pipelined round trip and fired in another, each schedule's firing
     * its own compare-and-set, so occurrences due together reach the stream together.
     *
     * @param leaseValue the slot's lease value as this process holds it; '' for a slot without a lease
     * @param skewMillis Redis TIME minus this process's wall clock: due times are Redis times
     * @return when the slot's next schedule is due, in Redis time; {@link ScheduleStore#NONE} if none is;
     * {@link ScheduleStore#LOST} when the lease was found lost
     */
    long fireDue(int i, String leaseValue, long skewMillis) {
        return fireDue(i, leaseValue, skewMillis, nextDue(i));
    }

    /**
     * Like {@link #fireDue(int, String, long)}, with the slot's earliest due time already read
     * ({@code next}, in Redis time; {@link ScheduleStore#NONE} if none): the timers loop reads it
     * in its pass's pipeline, beside the slot's move of delayed events.
     */
    long fireDue(int i, String leaseValue, long skewMillis, long next) {
        long now = clock.wallMillis() + skewMillis;
        // Most looks find nothing due (the once-a-second look of every held slot, whatever the
        // wakes said): the earliest due time alone answers them.
        if (next > now) { // NONE included
            return next;
        }
        List<String> due = client.call("read due schedules of " + keys.stream(i),
                () -> client.redis().zrangeByScore(keys.schedulesDue(i), Double.NEGATIVE_INFINITY, now,
                        0, FIRE_BATCH));
        if (!due.isEmpty()) {
            List<String> read = readAll(i, due);
            OccurrenceEnds.Look look = ends.look(i, now);
            List<String> homes = client.call("read the homes of due schedules",
                    () -> client.redis().hmget(keys.homes(), due.toArray(new String[0])));
            String here = Integer.toString(i);
            List<List<String>> calls = new ArrayList<>(due.size());
            for (int k = 0; k < due.size(); k++) {
                String id = due.get(k);
                String home = homes.get(k);
                if (home != null && home.indexOf('>') > 0) {
                    // A move in progress: finished here, whoever started it (it may have died), and
                    // neither copy fires until it is.
                    store.finishMove(id, new ScheduleStore.Home(home, now));
                    continue;
                }
                String state = read.get(3 * k + 1);
                if (!here.equals(home) || (state != null && state.startsWith(ScheduleStore.MOVING))) {
                    // The hash names another partition, or none: not ours to fire. Or marked here
                    // while the hash names this partition: a removal that failed after its mark
                    // (schedule_leave keeps a marked copy's place, so it comes back here), or a
                    // move back here since the state was read; the removal settles either.
                    store.removeStray(i, id);
                    continue;
                }
                List<String> args = fireArgs(i, leaseValue, id, now, read.get(3 * k), state, read.get(3 * k + 2), look);
                if (args != null) {
                    calls.add(args);
                }
            }
            if (!calls.isEmpty()) {
                List<Object> r = client.call("fire schedules of " + keys.stream(i),
                        () -> client.scripts().scheduleFire.evalAll(client.redis(), calls.size(),
                                k -> fireKeys(i), calls::get, client.waitReplicas(), client.waitMs(),
                                keys.leased() ? client.newsWakes(k -> keys.stream(i)) : null));
                // 0: a change or another firing came first, -2: not due yet by Redis TIME; both are
                // looked at again. -1: the lease is not ours.
                for (Object x : r) {
                    if (StreamEntries.number(x) == -1) {
                        return ScheduleStore.LOST;
                    }
                }
            }
        }
        if (due.size() == FIRE_BATCH) {
            return now; // more are due: look again at once
        }
        return nextDue(i);
    }

    /** {@return when slot {@code i}'s earliest schedule is due, in Redis time; {@link ScheduleStore#NONE} if none is} */
    private long nextDue(int i) {
        List<Tuple> first = client.call("read the next schedule of " + keys.stream(i),
                () -> client.redis().zrangeWithScores(keys.schedulesDue(i), 0, 0));
        return first.isEmpty() ? ScheduleStore.NONE : (long) first.get(0).getScore();
    }

    /** Each schedule's definition, state and last occurrence's entry: one round trip, one slot. */
    private List<String> readAll(int i, List<String> ids) {
        return client.call("read due schedules of " + keys.stream(i), () -> {
            List<Response<String>> r = new ArrayList<>(3 * ids.size());
            try (AbstractPipeline p = Topology.pipeline(client.redis())) {
                for (String id : ids) {
                    r.add(p.hget(keys.schedules(i), id));
                    r.add(p.hget(keys.scheduleStates(i), id));
                    r.add(p.hget(keys.scheduleRuns(i), id));
                }
                p.sync();
            }
            List<String> out = new ArrayList<>(r.size());
            for (Response<String> x : r) {
                out.add(x.get());
            }
            return out;
        });
    }

    private List<String> fireKeys(int i) {
        return List.of(keys.lease(i), keys.scheduleStates(i), keys.schedulesDue(i), keys.stream(i),
                keys.scheduleRuns(i), keys.schedules(i));
    }

    /**
     * What one schedule's firing sends: the occurrences one look decides and the state after
     * them; {@return null when the schedule cannot fire and was taken out of the due set}
     */
    private List<String> fireArgs(int i, String leaseValue, String id, long now, String def, String state,
                                  String runs, OccurrenceEnds.Look look) {
        if (def == null || state == null) {
            // Deleted since the due set was read, or a leftover place in it: the script removes
            // the place unless a state came meanwhile.
            return List.of(leaseValue, id, "", "", "-1", "0", "0", "");
        }
        try {
            FireTimes times = parsed.get(def);
            if (times == null) {
                times = FireTimes.of(ScheduleJson.read(def));
                parsed.put(def, times);
            }
            ScheduleState st = ScheduleState.decode(state);
            Schedule s = times.schedule();
            String runningAtStart = st.running();
            // Whether the last occurrence finished is asked only by the overlap policy.
            Predicate<String> finished = eventId -> eventId == null
                    || (eventId.equals(runningAtStart) && look.finished(eventId, runs));
            List<Long> fired = st.fire(times, now, finished);
            List<String> args = new ArrayList<>(8 + fired.size());
            long latestDue = 0;
            List<String> packed = new ArrayList<>(fired.size());
            for (long x : fired) {
                long dueAt = times.dueAt(x);
                latestDue = Math.max(latestDue, dueAt);
                packed.add(DelayedStore.pack(keys.entry(client.codec().encode(s.occurrence(x, dueAt), 1))));
            }
            args.addAll(List.of(leaseValue, id, state, st.encode(), Long.toString(ScheduleStore.lookAt(st, times, now)),
                    Long.toString(latestDue), Integer.toString(fired.size()), def));
            args.addAll(packed);
            return args;
        } catch (IllegalArgumentException | IllegalStateException e) {
            // Unreadable, or an occurrence the codec refuses: it cannot fire, now or later.
            log.error("schedule {} in slot {} cannot fire; looked at again in a minute; put it again to repair it: {}",
                    id, i, e.getMessage());
            // Looked at again in a minute, not at once (a spin) nor never (an upgraded owner or a
            // put repairs it); only if its state and definition are still these (a put meanwhile wins).
            store.write(i, id, def, state, def, "", now + UNFIREABLE_LOOK_MS);
            return null;
        }
    }
}

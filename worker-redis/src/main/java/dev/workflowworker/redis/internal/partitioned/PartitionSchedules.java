package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.schedule.FireTimes;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.ScheduleJson;
import dev.workflowworker.core.schedule.ScheduleState;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.redis.PartitionRouting;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import dev.workflowworker.redis.internal.partitioned.Partitions.Lease;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.resps.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Recurring schedules of a partitioned stream. A schedule lives in the partition its occurrences
 * go to (its execution id's, else its own id's), as a definition, a state ({@link ScheduleState})
 * and a place in the partition's due set; any process may create, change or delete it, and the
 * partition's owner fires it ({@link #fireDue}): one script appends the occurrences and swaps the
 * state, if the lease is still the owner's and the state still the one it computed from. See
 * docs/ARCHITECTURE.md, "Time".
 */
final class PartitionSchedules implements Schedules {

    private static final Logger log = LoggerFactory.getLogger(PartitionSchedules.class);

    /** Schedules fired per partition per look: bounds one look's time. */
    static final int FIRE_BATCH = 100;
    /** How soon the owner looks again at an occurrence buffered behind a running one: no signal tells it that one finished. */
    static final long BUFFERED_LOOK_MS = 200;
    /** Compare-and-set rounds before a change gives up: each lost round means a firing or another change came first. */
    private static final int CAS_ROUNDS = 20;
    static final long NONE = Long.MAX_VALUE;
    private static final int PARSED_CACHE = 20_000;
    /**
     * How long a deletion's answer is kept for a resend of the same call: the transport resends at
     * once after a lost reply; a minute also covers a resend delayed by a Redis restart.
     */
    static final long DELETED_MARKER_MS = 60_000;

    private final StreamClient client;
    private final RedisOptions options;
    private final StreamKeys keys;
    private final TimeSource clock;
    private final Function<WorkflowEvent, String> publish;
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

    PartitionSchedules(StreamClient client, Function<WorkflowEvent, String> publish) {
        this.client = client;
        this.options = client.options();
        this.keys = client.keys();
        this.clock = client.clock();
        this.publish = publish;
    }

    /** Where a schedule was found: its partition, definition and state. */
    private record Found(int partition, String definition, String state) {
        Schedule schedule() {
            return ScheduleJson.read(definition);
        }
    }

    private int home(Schedule s) {
        return PartitionRouting.partitionOf(s.executionId() != null ? s.executionId() : s.id(), options.partitions());
    }

    // ---- the API, from any process

    @Override
    public ScheduleInfo put(Schedule schedule) {
        Objects.requireNonNull(schedule, "schedule");
        client.checkOpen();
        // An occurrence too large is refused now, not at every firing.
        client.codec().encode(schedule.occurrence(0, 0), 1);
        String json = ScheduleJson.write(schedule);
        FireTimes times = FireTimes.of(schedule);
        int home = home(schedule);
        for (int round = 0; round < CAS_ROUNDS; round++) {
            Found f = find(schedule.id());
            String expected = "";
            ScheduleState st;
            long now = clock.wallMillis();
            if (f != null && f.partition != home) {
                // Its execution id changed: it moves, carrying the state it had at the moment it
                // left, so the new partition's owner goes on where the old one stopped.
                String carried = delete(f.partition, schedule.id());
                st = carried == null ? ScheduleState.starting(times, now) : ScheduleState.decode(carried);
                if (carried != null) {
                    st.replaced(f.schedule(), times, now);
                }
            } else if (f == null) {
                st = ScheduleState.starting(times, now);
            } else {
                st = ScheduleState.decode(f.state);
                st.replaced(f.schedule(), times, now);
                expected = f.state;
            }
            if (write(home, schedule.id(), json, expected, st.encode(), lookAt(st, times, now))) {
                return st.info(schedule);
            }
        }
        throw new IllegalStateException("schedule " + schedule.id() + " changed " + CAS_ROUNDS
                + " times while it was being written; try again");
    }

    @Override
    public Optional<ScheduleInfo> get(String id) {
        Found f = find(Objects.requireNonNull(id, "id"));
        return f == null ? Optional.empty() : Optional.of(ScheduleState.decode(f.state).info(f.schedule()));
    }

    /** Every partition's schedules, in one pipelined round trip per node, by id. */
    @Override
    public List<ScheduleInfo> list() {
        int n = options.partitions();
        return client.call("list schedules", () -> {
            List<Response<Map<String, String>>> defs = new ArrayList<>(n);
            List<Response<Map<String, String>>> states = new ArrayList<>(n);
            try (AbstractPipeline p = Topology.pipeline(client.redis())) {
                for (int i = 0; i < n; i++) {
                    defs.add(p.hgetAll(PartitionKeys.schedules(keys, i)));
                    states.add(p.hgetAll(PartitionKeys.scheduleStates(keys, i)));
                }
                p.sync();
            }
            List<ScheduleInfo> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Map<String, String> st = states.get(i).get();
                for (Map.Entry<String, String> d : defs.get(i).get().entrySet()) {
                    String state = st.get(d.getKey());
                    if (state != null) {
                        out.add(ScheduleState.decode(state).info(ScheduleJson.read(d.getValue())));
                    }
                }
            }
            out.sort(Comparator.comparing(info -> info.schedule().id()));
            return out;
        });
    }

    @Override
    public boolean pause(String id) {
        return setPaused(id, true);
    }

    @Override
    public boolean resume(String id) {
        return setPaused(id, false);
    }

    /** Keeps the schedule's place: a resumed schedule's missed occurrences meet its misfire policy. */
    private boolean setPaused(String id, boolean paused) {
        Objects.requireNonNull(id, "id");
        for (int round = 0; round < CAS_ROUNDS; round++) {
            Found f = find(id);
            if (f == null) {
                return false;
            }
            Schedule s = f.schedule().toBuilder().paused(paused).build();
            FireTimes times = FireTimes.of(s);
            ScheduleState st = ScheduleState.decode(f.state);
            if (write(f.partition, id, ScheduleJson.write(s), f.state, "", lookAt(st, times, clock.wallMillis()))) {
                return true;
            }
        }
        throw new IllegalStateException("schedule " + id + " changed " + CAS_ROUNDS + " times while it was being "
                + (paused ? "paused" : "resumed") + "; try again");
    }

    /** Published like any event, under an id no occurrence has; the schedule's state does not change. */
    @Override
    public Optional<String> triggerNow(String id) {
        Found f = find(Objects.requireNonNull(id, "id"));
        if (f == null) {
            return Optional.empty();
        }
        WorkflowEvent e = f.schedule().triggered(clock.wallMillis());
        publish.apply(e);
        return Optional.of(e.eventId());
    }

    @Override
    public boolean delete(String id) {
        Found f = find(Objects.requireNonNull(id, "id"));
        return f != null && delete(f.partition, id) != null;
    }

    @Override
    public List<Instant> nextFireTimes(String id, int n) {
        Found f = find(Objects.requireNonNull(id, "id"));
        if (f == null) {
            return List.of();
        }
        Schedule s = f.schedule();
        return ScheduleState.decode(f.state).nextFireTimes(FireTimes.of(s), n);
    }

    /**
     * Looks in every partition, in one pipelined round trip per node: a caller names a schedule
     * by id, which does not say which partition its execution id put it in.
     */
    private Found find(String id) {
        int n = options.partitions();
        return client.call("read schedule " + id, () -> {
            List<Response<String>> defs = new ArrayList<>(n);
            List<Response<String>> states = new ArrayList<>(n);
            try (AbstractPipeline p = Topology.pipeline(client.redis())) {
                for (int i = 0; i < n; i++) {
                    defs.add(p.hget(PartitionKeys.schedules(keys, i), id));
                    states.add(p.hget(PartitionKeys.scheduleStates(keys, i), id));
                }
                p.sync();
            }
            for (int i = 0; i < n; i++) {
                String def = defs.get(i).get();
                String state = states.get(i).get();
                if (def != null && state != null) {
                    return new Found(i, def, state);
                }
            }
            return null;
        });
    }

    private boolean write(int p, String id, String json, String expected, String state, long due) {
        Object r = client.call("write schedule " + id, () -> client.scripts().schedulePut.eval(client.redis(),
                List.of(PartitionKeys.schedules(keys, p), PartitionKeys.scheduleStates(keys, p),
                        PartitionKeys.schedulesDue(keys, p)),
                List.of(id, json, expected, state, Long.toString(due), PartitionKeys.timeWake(options),
                        Integer.toString(p)), client.waitReplicas(), client.waitMs()));
        return StreamEntries.number(r) == 1;
    }

    /** {@return the state the schedule had, or null when it was not there} */
    private String delete(int p, String id) {
        // One id per call, the same on the resend after a lost reply: the script answers that resend
        // from the first call's marker instead of finding nothing and answering "not there".
        String callId = java.util.UUID.randomUUID().toString();
        Object r = client.call("delete schedule " + id, () -> client.scripts().scheduleDelete.eval(client.redis(),
                List.of(PartitionKeys.schedules(keys, p), PartitionKeys.scheduleStates(keys, p),
                        PartitionKeys.schedulesDue(keys, p), PartitionKeys.scheduleRuns(keys, p),
                        PartitionKeys.scheduleDeleted(keys, p, callId)),
                List.of(id, Long.toString(DELETED_MARKER_MS)), client.waitReplicas(), client.waitMs()));
        return r == null ? null : StreamEntries.text(r);
    }

    /** {@return the score in the due set: when the owner must look; -1 when never (paused, ended)} */
    private static long lookAt(ScheduleState st, FireTimes times, long now) {
        long due = st.nextDue(times);
        if (st.buffering() && !times.schedule().paused()) {
            due = Math.min(due, now + BUFFERED_LOOK_MS);
        }
        return due == FireTimes.NONE ? -1 : due;
    }

    // ---- the owner's side

    /**
     * Fires the schedules of partition {@code i} due by now, for the holder of lease {@code l}.
     *
     * @param skewMillis Redis TIME minus this process's wall clock: due times are Redis times
     * @return when the partition's next schedule is due, in this process's wall clock; {@link #NONE} if none is
     */
    long fireDue(int i, Lease l, long skewMillis) {
        long now = clock.wallMillis() + skewMillis;
        List<String> due = client.call("read due schedules of partition " + i,
                () -> client.redis().zrangeByScore(PartitionKeys.schedulesDue(keys, i), Double.NEGATIVE_INFINITY, now,
                        0, FIRE_BATCH));
        for (String id : due) {
            if (!fire(i, l, id, now)) {
                return NONE; // the lease is not ours any more
            }
        }
        if (due.size() == FIRE_BATCH) {
            return clock.wallMillis(); // more are due: look again at once
        }
        List<Tuple> first = client.call("read the next schedule of partition " + i,
                () -> client.redis().zrangeWithScores(PartitionKeys.schedulesDue(keys, i), 0, 0));
        return first.isEmpty() ? NONE : (long) first.get(0).getScore() - skewMillis + 1;
    }

    /** Fires one schedule; {@return false when the lease was found lost} */
    private boolean fire(int i, Lease l, String id, long now) {
        // Definition, state, last occurrence's entry, committed position: one round trip, one slot.
        List<String> read = client.call("read schedule " + id, () -> {
            List<Response<String>> r = new ArrayList<>(4);
            try (AbstractPipeline p = Topology.pipeline(client.redis())) {
                r.add(p.hget(PartitionKeys.schedules(keys, i), id));
                r.add(p.hget(PartitionKeys.scheduleStates(keys, i), id));
                r.add(p.hget(PartitionKeys.scheduleRuns(keys, i), id));
                r.add(p.hget(PartitionKeys.log(keys, i), "c"));
                p.sync();
            }
            List<String> out = new ArrayList<>(4);
            for (Response<String> x : r) {
                out.add(x.get());
            }
            return out;
        });
        String def = read.get(0);
        String state = read.get(1);
        if (def == null || state == null) {
            return true; // deleted since the due set was read
        }
        FireTimes times;
        ScheduleState st;
        try {
            times = parsed.get(def);
            if (times == null) {
                times = FireTimes.of(ScheduleJson.read(def));
                parsed.put(def, times);
            }
            st = ScheduleState.decode(state);
        } catch (IllegalArgumentException e) {
            log.error("schedule {} in partition {} cannot be read and does not fire; put it again: {}", id, i, e.getMessage());
            // Out of the due set, or the owner would look at it again at once, forever; only if
            // its state is still the unreadable one (a put meanwhile wins).
            write(i, id, def, state, "", -1);
            return true;
        }
        Schedule s = times.schedule();
        String runningAtStart = st.running();
        Predicate<String> finished = eventId -> eventId == null
                || (eventId.equals(runningAtStart) && entryFinished(i, read.get(2), read.get(3)));
        List<Long> fired = st.fire(times, now, finished);
        List<String> args = new ArrayList<>(7 + fired.size());
        long latestDue = 0;
        List<String> packed = new ArrayList<>(fired.size());
        for (long x : fired) {
            long dueAt = times.dueAt(x);
            latestDue = Math.max(latestDue, dueAt);
            packed.add(PartitionedDelayed.pack(client.codec().encode(s.occurrence(x, dueAt), 1)));
        }
        args.addAll(List.of(l.value, id, state, st.encode(), Long.toString(lookAt(st, times, now)),
                Long.toString(latestDue), Integer.toString(fired.size())));
        args.addAll(packed);
        Object r = client.call("fire schedule " + id, () -> client.scripts().scheduleFire.eval(client.redis(),
                List.of(keys.partitionLease(i), PartitionKeys.scheduleStates(keys, i),
                        PartitionKeys.schedulesDue(keys, i), keys.partitionStream(i), PartitionKeys.scheduleRuns(keys, i)),
                args, client.waitReplicas(), client.waitMs()));
        // 0: a change or another firing came first, -2: not due yet by Redis TIME; both are looked at again.
        return StreamEntries.number(r) != -1;
    }

    /**
     * Whether the entry {@code entryId} of partition {@code i} is settled: at or below the
     * committed position, or in the set of those settled above it. A retry's hold is neither: the
     * occurrence still runs.
     */
    private boolean entryFinished(int i, String entryId, String committed) {
        if (entryId == null) {
            return true;
        }
        if (committed != null && compareIds(entryId, committed) <= 0) {
            return true;
        }
        return client.call("read whether an occurrence finished",
                () -> client.redis().sismember(PartitionKeys.settled(keys, i), entryId));
    }

    private static int compareIds(String a, String b) {
        int da = a.indexOf('-');
        int db = b.indexOf('-');
        int c = Long.compare(Long.parseLong(a.substring(0, da)), Long.parseLong(b.substring(0, db)));
        return c != 0 ? c : Long.compare(Long.parseLong(a.substring(da + 1)), Long.parseLong(b.substring(db + 1)));
    }
}

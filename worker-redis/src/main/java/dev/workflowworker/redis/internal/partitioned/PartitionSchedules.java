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
    /** What {@link #fireDue} answers when the lease was found lost. */
    static final long LOST = Long.MIN_VALUE;
    /** The latest instant an occurrence may carry (9999-12-31T23:59:59.999Z): its id and headers at their widest. */
    private static final long WIDEST_MILLIS = 253_402_300_799_999L;
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

        /** {@return the stored definition, or null when it cannot be read (written by a newer version, or damaged)} */
        Schedule readable() {
            try {
                return ScheduleJson.read(definition);
            } catch (IllegalArgumentException e) {
                log.warn("schedule definition in partition {} cannot be read and is replaced: {}", partition,
                        e.getMessage());
                return null;
            }
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
        // An occurrence too large is refused now, not at every firing: its id and headers at their widest.
        client.codec().encode(schedule.occurrence(WIDEST_MILLIS, WIDEST_MILLIS), 1);
        String json = ScheduleJson.write(schedule);
        FireTimes times = FireTimes.of(schedule);
        int home = home(schedule);
        for (int round = 0; round < CAS_ROUNDS; round++) {
            Found f = find(schedule.id());
            String expectedState = "";
            String expectedDef = "";
            ScheduleState st;
            long now = clock.wallMillis();
            Schedule old = f == null ? null : f.readable();
            if (f != null && f.partition != home) {
                // Its execution id changed: it moves, carrying the state it had at the moment it
                // left, so the new partition's owner goes on where the old one stopped.
                String carried = delete(f.partition, schedule.id());
                if (carried == null) {
                    continue; // another process moved or deleted it first: look again
                }
                st = old == null ? ScheduleState.starting(times, now) : ScheduleState.decode(carried);
                if (old != null) {
                    st.replaced(old, times, now);
                }
            } else if (f == null || old == null) {
                st = ScheduleState.starting(times, now);
                if (f != null) {
                    expectedState = f.state;
                    expectedDef = f.definition;
                }
            } else {
                st = ScheduleState.decode(f.state);
                st.replaced(old, times, now);
                expectedState = f.state;
                expectedDef = f.definition;
            }
            if (write(home, schedule.id(), json, expectedState, expectedDef, st.encode(), lookAt(st, times, now))) {
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
                    if (state == null) {
                        continue;
                    }
                    try {
                        out.add(ScheduleState.decode(state).info(ScheduleJson.read(d.getValue())));
                    } catch (IllegalArgumentException e) {
                        // One unreadable schedule must not hide the others; put it again to repair it.
                        log.warn("schedule {} in partition {} cannot be read and is left out of the list: {}",
                                d.getKey(), i, e.getMessage());
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
            if (write(f.partition, id, ScheduleJson.write(s), f.state, f.definition, "",
                    lookAt(st, times, clock.wallMillis()))) {
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

    /**
     * Writes a schedule if its stored state and definition are still the expected ones ('' for
     * absent): both, since a replace may leave the state as it was.
     */
    private boolean write(int p, String id, String json, String expectedState, String expectedDef, String state,
                          long due) {
        Object r = client.call("write schedule " + id, () -> client.scripts().schedulePut.eval(client.redis(),
                List.of(PartitionKeys.schedules(keys, p), PartitionKeys.scheduleStates(keys, p),
                        PartitionKeys.schedulesDue(keys, p)),
                List.of(id, json, expectedState, state, Long.toString(due), PartitionKeys.timeWake(options),
                        Integer.toString(p), expectedDef), client.waitReplicas(), client.waitMs()));
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
    static long lookAt(ScheduleState st, FireTimes times, long now) {
        long due = st.nextDue(times);
        if (st.buffering() && !times.schedule().paused()) {
            // A buffered occurrence waits even when no other is due (the schedule ended or ran out).
            return due == FireTimes.NONE ? now + BUFFERED_LOOK_MS : Math.min(due, now + BUFFERED_LOOK_MS);
        }
        return due == FireTimes.NONE ? -1 : due;
    }

    // ---- the owner's side

    /**
     * Fires the schedules of partition {@code i} due by now, for the holder of lease {@code l}: the
     * due batch is read in one pipelined round trip and fired in another, each schedule's firing
     * its own compare-and-set, so occurrences due together reach the stream together.
     *
     * @param skewMillis Redis TIME minus this process's wall clock: due times are Redis times
     * @return when the partition's next schedule is due, in Redis time; {@link #NONE} if none is;
     * {@link #LOST} when the lease was found lost
     */
    long fireDue(int i, Lease l, long skewMillis) {
        long now = clock.wallMillis() + skewMillis;
        List<String> due = client.call("read due schedules of partition " + i,
                () -> client.redis().zrangeByScore(PartitionKeys.schedulesDue(keys, i), Double.NEGATIVE_INFINITY, now,
                        0, FIRE_BATCH));
        if (!due.isEmpty()) {
            List<String> read = readAll(i, due);
            String committed = read.get(3 * due.size());
            List<List<String>> calls = new ArrayList<>(due.size());
            for (int k = 0; k < due.size(); k++) {
                List<String> args = fireArgs(i, l, due.get(k), now, read.get(3 * k), read.get(3 * k + 1),
                        read.get(3 * k + 2), committed);
                if (args != null) {
                    calls.add(args);
                }
            }
            if (!calls.isEmpty()) {
                List<Object> r = client.call("fire schedules of partition " + i,
                        () -> client.scripts().scheduleFire.evalAll(client.redis(), calls.size(),
                                k -> fireKeys(i), calls::get, client.waitReplicas(), client.waitMs()));
                // 0: a change or another firing came first, -2: not due yet by Redis TIME; both are
                // looked at again. -1: the lease is not ours.
                for (Object x : r) {
                    if (StreamEntries.number(x) == -1) {
                        return LOST;
                    }
                }
            }
        }
        if (due.size() == FIRE_BATCH) {
            return now; // more are due: look again at once
        }
        List<Tuple> first = client.call("read the next schedule of partition " + i,
                () -> client.redis().zrangeWithScores(PartitionKeys.schedulesDue(keys, i), 0, 0));
        return first.isEmpty() ? NONE : (long) first.get(0).getScore();
    }

    /**
     * Each schedule's definition, state and last occurrence's entry, then the partition's
     * committed position: one round trip, one slot.
     */
    private List<String> readAll(int i, List<String> ids) {
        return client.call("read due schedules of partition " + i, () -> {
            List<Response<String>> r = new ArrayList<>(3 * ids.size() + 1);
            try (AbstractPipeline p = Topology.pipeline(client.redis())) {
                for (String id : ids) {
                    r.add(p.hget(PartitionKeys.schedules(keys, i), id));
                    r.add(p.hget(PartitionKeys.scheduleStates(keys, i), id));
                    r.add(p.hget(PartitionKeys.scheduleRuns(keys, i), id));
                }
                r.add(p.hget(PartitionKeys.log(keys, i), "c"));
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
        return List.of(keys.partitionLease(i), PartitionKeys.scheduleStates(keys, i), PartitionKeys.schedulesDue(keys, i),
                keys.partitionStream(i), PartitionKeys.scheduleRuns(keys, i), PartitionKeys.schedules(keys, i));
    }

    /**
     * What one schedule's firing sends: the occurrences one look decides and the state after
     * them; {@return null when the schedule cannot fire and was taken out of the due set}
     */
    private List<String> fireArgs(int i, Lease l, String id, long now, String def, String state, String runs,
                                  String committed) {
        if (def == null || state == null) {
            // Deleted since the due set was read, or a leftover place in it: the script removes
            // the place unless a state came meanwhile.
            return List.of(l.value, id, "", "", "-1", "0", "0", "");
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
                    || (eventId.equals(runningAtStart) && entryFinished(i, runs, committed));
            List<Long> fired = st.fire(times, now, finished);
            List<String> args = new ArrayList<>(8 + fired.size());
            long latestDue = 0;
            List<String> packed = new ArrayList<>(fired.size());
            for (long x : fired) {
                long dueAt = times.dueAt(x);
                latestDue = Math.max(latestDue, dueAt);
                packed.add(PartitionedDelayed.pack(client.codec().encode(s.occurrence(x, dueAt), 1)));
            }
            args.addAll(List.of(l.value, id, state, st.encode(), Long.toString(lookAt(st, times, now)),
                    Long.toString(latestDue), Integer.toString(fired.size()), def));
            args.addAll(packed);
            return args;
        } catch (IllegalArgumentException | IllegalStateException e) {
            // Unreadable, or an occurrence the codec refuses: it cannot fire, now or later.
            log.error("schedule {} in partition {} cannot fire and is taken out of the due set; put it again: {}",
                    id, i, e.getMessage());
            // Out of the due set, or the owner would look at it again at once, forever; only if
            // its state and definition are still these (a put meanwhile wins).
            write(i, id, def, state, def, "", -1);
            return null;
        }
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

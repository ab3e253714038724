package dev.workflowworker.redis.internal.time;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.schedule.FireTimes;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.ScheduleJson;
import dev.workflowworker.core.schedule.ScheduleState;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Recurring schedules of a stream, from any process. A schedule lives in the slot its occurrences
 * go to (on a partitioned stream the partition of its execution id, else of its own id; the one
 * shared stream otherwise), as a definition, a state ({@link ScheduleState}) and a place in the
 * slot's due set; a hash of homes says which slot that is, so a schedule is found in one read, two
 * processes creating or moving it agree on one copy, and a move that failed half-way is finished
 * by the next caller. A mover of the slot fires it ({@link ScheduleFiring}), only while the hash
 * names its slot, and removes a copy the hash does not name. Schedule math counts from Redis
 * TIME, never the caller's clock. See docs/ARCHITECTURE.md, "Time".
 */
public final class ScheduleStore implements Schedules {

    private static final Logger log = LoggerFactory.getLogger(ScheduleStore.class);

    /** How soon the owner looks again at an occurrence buffered behind a running one: no signal tells it that one finished. */
    static final long BUFFERED_LOOK_MS = 200;
    /** Compare-and-set rounds before a change gives up: each lost round means a firing or another change came first. */
    private static final int CAS_ROUNDS = 20;
    static final long NONE = Long.MAX_VALUE;
    /** What {@link ScheduleFiring#fireDue} answers when the lease was found lost. */
    static final long LOST = Long.MIN_VALUE;
    /** The mark of a state whose schedule is leaving the partition (see schedule_leave.lua). */
    static final String MOVING = "moving|";
    /** The latest instant an occurrence may carry (9999-12-31T23:59:59.999Z): its id and headers at their widest. */
    private static final long WIDEST_MILLIS = 253_402_300_799_999L;
    /**
     * How long a deletion's answer is kept for a resend of the same call: the transport resends
     * once after a lost reply; a minute also covers a resend delayed by a Redis restart.
     */
    static final long DELETED_MARKER_MS = 60_000;

    private final StreamClient client;
    private final TimeKeys keys;
    private final ToIntFunction<Schedule> slotOf;
    private final Function<WorkflowEvent, String> publish;

    /**
     * @param slotOf  the slot a schedule lives in
     * @param publish publishes a triggered run like any event
     */
    public ScheduleStore(StreamClient client, TimeKeys keys, ToIntFunction<Schedule> slotOf,
                         Function<WorkflowEvent, String> publish) {
        this.client = client;
        this.keys = keys;
        this.slotOf = slotOf;
        this.publish = publish;
    }

    /** What the homes hash says of a schedule, read with Redis TIME. */
    record Home(String value, long now) {
        boolean absent() {
            return value.isEmpty();
        }

        boolean moving() {
            return value.indexOf('>') > 0;
        }

        int partition() {
            return Integer.parseInt(value);
        }

        int from() {
            return Integer.parseInt(value.substring(0, value.indexOf('>')));
        }

        int to() {
            return Integer.parseInt(value.substring(value.indexOf('>') + 1));
        }
    }

    /** What one partition holds of a schedule; either may be null. */
    private record Stored(int partition, String definition, String state) {
        boolean whole() {
            return definition != null && state != null;
        }

        Schedule schedule() {
            return ScheduleJson.read(definition);
        }

        /** {@return the definition, or null when it cannot be read (written by a newer version, or damaged)} */
        Schedule readable() {
            try {
                return ScheduleJson.read(definition);
            } catch (IllegalArgumentException e) {
                log.warn("schedule definition in slot {} cannot be read and is replaced: {}", partition,
                        e.getMessage());
                return null;
            }
        }

        ScheduleState decoded() {
            return ScheduleState.decode(state.startsWith(MOVING) ? state.substring(MOVING.length()) : state);
        }
    }

    private int home(Schedule s) {
        return slotOf.applyAsInt(s);
    }

    // ---- the API

    @Override
    public ScheduleInfo put(Schedule schedule) {
        Objects.requireNonNull(schedule, "schedule");
        client.checkOpen();
        // An occurrence too large is refused now, not at every firing: its id and headers at their widest.
        client.codec().encode(schedule.occurrence(WIDEST_MILLIS, WIDEST_MILLIS), 1);
        String id = schedule.id();
        String json = ScheduleJson.write(schedule);
        FireTimes times = FireTimes.of(schedule);
        int home = home(schedule);
        for (int round = 0; round < CAS_ROUNDS; round++) {
            Home h = readHome(id);
            if (h.absent()) {
                casHome(id, "", Integer.toString(home)); // a new schedule claims its home first
                continue;
            }
            if (h.moving()) {
                finishMove(id, h);
                continue;
            }
            int at = h.partition();
            if (at != home) {
                // Its execution id changed: it moves, carrying its state, so the new partition's
                // owner goes on where the old one stopped; then this put replaces it there.
                String moving = at + ">" + home;
                if (casHome(id, h.value, moving)) {
                    finishMove(id, new Home(moving, h.now));
                }
                continue;
            }
            Stored s = readAt(at, id);
            Schedule old = s.whole() && !s.state.startsWith(MOVING) ? s.readable() : null;
            ScheduleState st = null;
            if (old != null) {
                try {
                    st = s.decoded();
                    st.replaced(old, times, h.now);
                } catch (IllegalArgumentException e) {
                    log.warn("schedule {}'s state cannot be read and starts afresh: {}", id, e.getMessage());
                    st = null;
                }
            }
            if (st == null) {
                st = ScheduleState.starting(times, h.now);
            }
            // The expected values are what is stored, whole or not: a put repairs a half-gone schedule.
            if (write(at, id, json, orEmpty(s.state), orEmpty(s.definition), st.encode(), lookAt(st, times, h.now))
                    && readHome(id).value.equals(h.value)) {
                // Still its home after the write: a concurrent move elsewhere would have left this
                // copy behind, which the owner removes rather than fires; then this put goes again.
                return st.info(schedule);
            }
        }
        throw new IllegalStateException("schedule " + id + " changed " + CAS_ROUNDS
                + " times while it was being written; try again");
    }

    /**
     * Finishes the move the homes hash records, whoever started it: each step can be repeated,
     * so a move that failed half-way (Redis away, the process gone) is finished by the next call.
     * Leave (mark the old copy, stop it firing), write the new copy with the old state over
     * whatever is there (while the hash says "moving", no owner fires either copy, so another
     * finisher's copy is the same and a late one's leftover is replaced), record the new home,
     * clear the old copy.
     */
    void finishMove(String id, Home h) {
        int from = h.from();
        int to = h.to();
        List<?> left = leave(from, id, "leave");
        if (left != null) {
            String def = StreamEntries.text(left.get(0));
            Schedule old = new Stored(from, def, null).readable();
            if (old != null) {
                ScheduleState st;
                try {
                    st = ScheduleState.decode(StreamEntries.text(left.get(1)));
                } catch (IllegalArgumentException e) {
                    st = ScheduleState.starting(FireTimes.of(old), h.now);
                }
                // The copy there may change between its read and the write (a stray's removal
                // marks it, removeStray): read again while the hash still records this move, or
                // the move would end with that copy, not the one it carries. The hash is read
                // after the copy: once it names the new partition (another finisher got there
                // first), that copy is live, fired from, and possibly moved on and back since, so
                // writing the carried state over it would undo firings, puts and pauses; while
                // it still records this move, no owner fires either copy, so a change after this
                // read fails the write's compare-and-set.
                for (int round = 0; round < CAS_ROUNDS; round++) {
                    Stored target = readAt(to, id);
                    if (!readHome(id).value.equals(h.value) || write(to, id, def, orEmpty(target.state),
                            orEmpty(target.definition), st.encode(), lookAt(st, FireTimes.of(old), h.now))) {
                        break;
                    }
                }
            }
        }
        if (casHome(id, h.value, Integer.toString(to)) && left != null) {
            leave(from, id, "clear");
        }
    }

    @Override
    public Optional<ScheduleInfo> get(String id) {
        Stored s = find(Objects.requireNonNull(id, "id"));
        return s == null ? Optional.empty() : Optional.of(s.decoded().info(s.schedule()));
    }

    /**
     * Every slot's schedules, in one pipelined round trip per node, by id. A schedule caught in a
     * move may be in two slots: the copy that is not leaving is shown.
     */
    @Override
    public List<ScheduleInfo> list() {
        int n = keys.count();
        return client.call("list schedules", () -> {
            List<Response<Map<String, String>>> defs = new ArrayList<>(n);
            List<Response<Map<String, String>>> states = new ArrayList<>(n);
            try (AbstractPipeline p = Topology.pipeline(client.redis())) {
                for (int i = 0; i < n; i++) {
                    defs.add(p.hgetAll(keys.schedules(i)));
                    states.add(p.hgetAll(keys.scheduleStates(i)));
                }
                p.sync();
            }
            Map<String, Stored> byId = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                Map<String, String> st = states.get(i).get();
                for (Map.Entry<String, String> d : defs.get(i).get().entrySet()) {
                    String state = st.get(d.getKey());
                    if (state != null && (!state.startsWith(MOVING) || !byId.containsKey(d.getKey()))) {
                        byId.put(d.getKey(), new Stored(i, d.getValue(), state));
                    }
                }
            }
            List<ScheduleInfo> out = new ArrayList<>(byId.size());
            for (Map.Entry<String, Stored> e : byId.entrySet()) {
                try {
                    out.add(e.getValue().decoded().info(e.getValue().schedule()));
                } catch (IllegalArgumentException ex) {
                    // One unreadable schedule must not hide the others; put it again to repair it.
                    log.warn("schedule {} in slot {} cannot be read and is left out of the list: {}",
                            e.getKey(), e.getValue().partition, ex.getMessage());
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
            Home h = settledHome(id);
            Stored s = h == null ? null : readAt(h.partition(), id);
            if (s == null || !s.whole() || s.state.startsWith(MOVING)) {
                return false;
            }
            Schedule changed = s.schedule().toBuilder().paused(paused).build();
            ScheduleState st = s.decoded();
            if (write(s.partition, id, ScheduleJson.write(changed), s.state, s.definition, "",
                    lookAt(st, FireTimes.of(changed), h.now))) {
                return true;
            }
        }
        throw new IllegalStateException("schedule " + id + " changed " + CAS_ROUNDS + " times while it was being "
                + (paused ? "paused" : "resumed") + "; try again");
    }

    /** Published like any event, under an id no occurrence has; the schedule's state does not change. */
    @Override
    public Optional<String> triggerNow(String id) {
        Stored s = find(Objects.requireNonNull(id, "id"));
        if (s == null) {
            return Optional.empty();
        }
        WorkflowEvent e = s.schedule().triggered(readHome(id).now);
        publish.apply(e);
        return Optional.of(e.eventId());
    }

    @Override
    public boolean delete(String id) {
        Objects.requireNonNull(id, "id");
        for (int round = 0; round < CAS_ROUNDS; round++) {
            Home h = readHome(id);
            if (h.absent()) {
                return false;
            }
            if (h.moving()) {
                finishMove(id, h);
                continue;
            }
            String state = delete(h.partition(), id);
            casHome(id, h.value, "");
            return state != null;
        }
        throw new IllegalStateException("schedule " + id + " changed " + CAS_ROUNDS + " times while it was being "
                + "deleted; try again");
    }

    @Override
    public List<Instant> nextFireTimes(String id, int n) {
        Stored s = find(Objects.requireNonNull(id, "id"));
        return s == null ? List.of() : s.decoded().nextFireTimes(FireTimes.of(s.schedule()), n);
    }

    // ---- reads and writes

    /** {@return the schedule where it lives, whole, or null} A move in progress is finished first. */
    private Stored find(String id) {
        Home h = settledHome(id);
        if (h == null) {
            return null;
        }
        Stored s = readAt(h.partition(), id);
        return s.whole() && !s.state.startsWith(MOVING) ? s : null;
    }

    /** {@return the schedule's home, after finishing a move in progress; null when it has none} */
    private Home settledHome(String id) {
        for (int round = 0; round < CAS_ROUNDS; round++) {
            Home h = readHome(id);
            if (h.absent()) {
                return null;
            }
            if (!h.moving()) {
                return h;
            }
            finishMove(id, h);
        }
        throw new IllegalStateException("schedule " + id + " kept moving while it was being read; try again");
    }

    Home readHome(String id) {
        List<?> r = (List<?>) client.call("read the home of schedule " + id, () -> client.scripts().scheduleHome.eval(
                client.redis(), List.of(keys.homes()), List.of(id, "read")));
        return new Home(StreamEntries.text(r.get(0)), StreamEntries.number(r.get(1)));
    }

    private boolean casHome(String id, String expected, String value) {
        return StreamEntries.number(client.call("write the home of schedule " + id, () -> client.scripts().scheduleHome.eval(
                client.redis(), List.of(keys.homes()), List.of(id, "cas", expected, value),
                client.waitReplicas(), client.waitMs()))) == 1;
    }

    private Stored readAt(int p, String id) {
        return client.call("read schedule " + id, () -> {
            Response<String> def;
            Response<String> state;
            try (AbstractPipeline pipe = Topology.pipeline(client.redis())) {
                def = pipe.hget(keys.schedules(p), id);
                state = pipe.hget(keys.scheduleStates(p), id);
                pipe.sync();
            }
            return new Stored(p, def.get(), state.get());
        });
    }

    /**
     * Writes a schedule if its stored state and definition are still the expected ones ('' for
     * absent): both, since a replace may leave the state as it was.
     */
    boolean write(int p, String id, String json, String expectedState, String expectedDef, String state, long due) {
        Object r = client.call("write schedule " + id, () -> client.scripts().schedulePut.eval(client.redis(),
                List.of(keys.schedules(p), keys.scheduleStates(p), keys.schedulesDue(p)),
                List.of(id, json, expectedState, state, Long.toString(due), keys.wake(),
                        Integer.toString(p), expectedDef), client.waitReplicas(), client.waitMs()));
        return StreamEntries.number(r) == 1;
    }

    /**
     * Removes a copy the homes hash does not name (left by a finisher of a move that others had
     * finished and moved on from, or by a put that lost to a move): marked, then cleared, so a
     * live copy written meanwhile is kept. The caller read the hash before this: a move here may
     * have finished since and written the live copy over the stray, so the hash is read again
     * after the mark (a move here finishes with its write, which unmarks, before the hash names
     * this slot). A copy the hash now names is unmarked again, one a move in progress to or from
     * here involves is left to that move, finished here; any other is cleared. The mark keeps the
     * copy's place in the due set, so a removal that fails after it (Redis away) is taken up by the
     * owner's next look at it, which calls this again: the live copy is never left marked and
     * unlooked at.
     */
    void removeStray(int p, String id) {
        List<?> left = leave(p, id, "leave");
        if (left == null) {
            return;
        }
        Home h = readHome(id);
        if (h.moving() && (h.from() == p || h.to() == p)) {
            finishMove(id, h);
        } else if (!h.moving() && !h.absent() && h.partition() == p) {
            restore(p, id, left, h.now);
        } else {
            leave(p, id, "clear");
        }
    }

    /** Unmarks a copy {@link #removeStray} marked that is the live one after all, its place in the due set computed afresh. */
    private void restore(int p, String id, List<?> left, long now) {
        String def = StreamEntries.text(left.get(0));
        String state = StreamEntries.text(left.get(1));
        Schedule s = new Stored(p, def, null).readable();
        long due = now; // unreadable: the firing looks at it, and pushes it a minute on
        if (s != null) {
            try {
                due = lookAt(ScheduleState.decode(state), FireTimes.of(s), now);
            } catch (IllegalArgumentException e) {
                log.warn("schedule {}'s state in slot {} cannot be read: {}", id, p, e.getMessage());
            }
        }
        // Only if it is still the copy marked here: a put or a move since wrote over it, and wins.
        write(p, id, def, MOVING + state, def, state, due);
    }

    /** {@return definition and state (unmarked) of the copy in partition {@code p}, or null} See schedule_leave.lua. */
    private List<?> leave(int p, String id, String mode) {
        Object r = client.call("move schedule " + id, () -> client.scripts().scheduleLeave.eval(client.redis(),
                List.of(keys.schedules(p), keys.scheduleStates(p), keys.schedulesDue(p), keys.scheduleRuns(p)),
                List.of(id, mode), client.waitReplicas(), client.waitMs()));
        return r instanceof List<?> l ? l : null;
    }

    /** {@return the state the schedule had, or null when it was not there} */
    private String delete(int p, String id) {
        // One id per call, the same on the resend after a lost reply: the script answers that resend
        // from the first call's marker instead of finding nothing and answering "not there".
        String callId = java.util.UUID.randomUUID().toString();
        Object r = client.call("delete schedule " + id, () -> client.scripts().scheduleDelete.eval(client.redis(),
                List.of(keys.schedules(p), keys.scheduleStates(p), keys.schedulesDue(p), keys.scheduleRuns(p),
                        keys.scheduleDeleted(p, callId)),
                List.of(id, Long.toString(DELETED_MARKER_MS)), client.waitReplicas(), client.waitMs()));
        return r == null ? null : StreamEntries.text(r);
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
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
}

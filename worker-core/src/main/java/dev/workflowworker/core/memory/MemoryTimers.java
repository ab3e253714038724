package dev.workflowworker.core.memory;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.schedule.FireTimes;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.ScheduleState;
import dev.workflowworker.core.schedule.Schedules;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The in-memory transport's time: delayed events waiting for their due time, and schedules
 * waiting for their next occurrence. Nothing here runs by itself: the transport's readers call
 * {@link #runDue()} before they read and bound their wait by {@link #millisUntilNext()}, and an
 * insert that becomes the earliest wakes them, so an event is moved at its due time rather than
 * at the next poll. Same semantics as the Redis transport's, which does this in scripts.
 */
final class MemoryTimers implements DelayedEvents, Schedules {

    private record Key(long dueMillis, long seq) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = Long.compare(dueMillis, o.dueMillis);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    /** One schedule and where it stands; guarded by the timers' lock. */
    private static final class State {
        Schedule schedule;
        FireTimes times;
        ScheduleState at;
        Key key;
    }

    private final TimeSource clock;
    /** Appends an event to the stream now, behind its execution's events already there. */
    private final Consumer<WorkflowEvent> enqueue;
    /** Whether an event was completed or dead-lettered. */
    private final Predicate<String> finished;
    /** Throws if an event could not be published (transport closed, payload over the limit). */
    private final Consumer<WorkflowEvent> check;
    /** Cuts waiting reads short, so they look at the timers again. */
    private final Runnable wake;
    private final ReentrantLock lock = new ReentrantLock();
    private final TreeMap<Key, WorkflowEvent> delayed = new TreeMap<>();
    private final Map<String, Key> delayedById = new HashMap<>();
    private final TreeMap<Key, State> due = new TreeMap<>();
    private final Map<String, State> schedules = new TreeMap<>();
    private final Set<State> buffering = new LinkedHashSet<>();
    private long seq;

    MemoryTimers(TimeSource clock, Consumer<WorkflowEvent> enqueue, Predicate<String> finished,
                 Consumer<WorkflowEvent> check, Runnable wake) {
        this.clock = clock;
        this.enqueue = enqueue;
        this.finished = finished;
        this.check = check;
        this.wake = wake;
    }

    /** Moves what is due into the stream and fires the schedules that are due; cheap when nothing is. */
    void runDue() {
        lock.lock();
        try {
            long now = clock.wallMillis();
            // Delayed events and occurrences join the stream in the order they came due, whichever
            // kind they are (a delayed event due 10:01:30 goes behind an occurrence due 10:01).
            List<Pending> batch = new ArrayList<>();
            Map.Entry<Key, WorkflowEvent> d;
            while ((d = delayed.firstEntry()) != null && d.getKey().dueMillis <= now) {
                delayed.pollFirstEntry();
                delayedById.remove(d.getValue().eventId());
                batch.add(new Pending(d.getKey().dueMillis, d.getValue()));
            }
            this.batch = batch;
            try {
                for (State st : new ArrayList<>(buffering)) {
                    fire(st, now);
                }
                Map.Entry<Key, State> s;
                while ((s = due.firstEntry()) != null && s.getKey().dueMillis <= now) {
                    fire(s.getValue(), now);
                }
            } finally {
                this.batch = null;
            }
            batch.sort(java.util.Comparator.comparingLong(Pending::dueMillis)); // stable: ties keep their order
            for (Pending p : batch) {
                enqueue.accept(p.event());
            }
        } finally {
            lock.unlock();
        }
    }

    /** An event that came due in this {@link #runDue()}, to be enqueued in due order. */
    private record Pending(long dueMillis, WorkflowEvent event) {
    }

    /** Non-null during {@link #runDue()}: the occurrences fired go here first. */
    private List<Pending> batch;

    /** {@return milliseconds until something here is due: 0 if something is, Long.MAX_VALUE if nothing waits} */
    long millisUntilNext() {
        lock.lock();
        try {
            long first = Long.MAX_VALUE;
            if (!delayed.isEmpty()) {
                first = delayed.firstKey().dueMillis;
            }
            if (!due.isEmpty()) {
                first = Math.min(first, due.firstKey().dueMillis);
            }
            if (!buffering.isEmpty()) {
                // A buffered occurrence waits for its predecessor, of which no signal comes here.
                first = Math.min(first, clock.wallMillis() + 50);
            }
            return first == Long.MAX_VALUE ? first : Math.max(0, first - clock.wallMillis());
        } finally {
            lock.unlock();
        }
    }

    /** {@return how long a read may wait for news before it has to look at the timers again} */
    Duration bound(Duration maxWait) {
        long ms = millisUntilNext();
        return ms >= maxWait.toMillis() ? maxWait : Duration.ofMillis(ms);
    }

    // ---- delayed events

    @Override
    public String publishAt(WorkflowEvent event, Instant dueAt) {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(dueAt, "dueAt");
        check.accept(event);
        lock.lock();
        try {
            if (delayedById.containsKey(event.eventId())) {
                return event.eventId();
            }
            put(event, dueAt.toEpochMilli());
        } finally {
            lock.unlock();
        }
        runDue();
        return event.eventId();
    }

    @Override
    public String publishAfter(WorkflowEvent event, Duration delay) {
        Objects.requireNonNull(delay, "delay");
        return publishAt(event, Instant.ofEpochMilli(clock.wallMillis() + Math.max(0, delay.toMillis())));
    }

    @Override
    public boolean cancel(String eventId) {
        lock.lock();
        try {
            Key k = delayedById.remove(eventId);
            return k != null && delayed.remove(k) != null;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean reschedule(String eventId, Instant dueAt) {
        Objects.requireNonNull(dueAt, "dueAt");
        lock.lock();
        try {
            Key k = delayedById.remove(eventId);
            if (k == null) {
                return false;
            }
            put(delayed.remove(k), dueAt.toEpochMilli());
        } finally {
            lock.unlock();
        }
        runDue();
        return true;
    }

    @Override
    public long waiting() {
        lock.lock();
        try {
            return delayed.size();
        } finally {
            lock.unlock();
        }
    }

    private void put(WorkflowEvent event, long dueMillis) {
        Map<String, String> headers = new HashMap<>(event.headers());
        headers.put(DUE_AT_HEADER, Instant.ofEpochMilli(dueMillis).toString());
        event = event.toBuilder().headers(headers).build();
        boolean earliest = delayed.isEmpty() || dueMillis < delayed.firstKey().dueMillis;
        Key k = new Key(dueMillis, ++seq);
        delayed.put(k, event);
        delayedById.put(event.eventId(), k);
        if (earliest) {
            wake.run();
        }
    }

    // ---- schedules

    @Override
    public ScheduleInfo put(Schedule schedule) {
        Objects.requireNonNull(schedule, "schedule");
        check.accept(schedule.occurrence(0, 0));
        lock.lock();
        try {
            State st = schedules.get(schedule.id());
            FireTimes times = FireTimes.of(schedule);
            if (st == null) {
                st = new State();
                st.at = ScheduleState.starting(times, clock.wallMillis());
                schedules.put(schedule.id(), st);
            } else {
                st.at.replaced(st.schedule, times, clock.wallMillis());
            }
            unindex(st);
            st.schedule = schedule;
            st.times = times;
            index(st);
            wake.run();
            return info(st);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<ScheduleInfo> get(String id) {
        lock.lock();
        try {
            State st = schedules.get(id);
            return st == null ? Optional.empty() : Optional.of(info(st));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<ScheduleInfo> list() {
        lock.lock();
        try {
            List<ScheduleInfo> out = new ArrayList<>(schedules.size());
            for (State st : schedules.values()) {
                out.add(info(st));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean pause(String id) {
        return setPaused(id, true);
    }

    @Override
    public boolean resume(String id) {
        return setPaused(id, false);
    }

    private boolean setPaused(String id, boolean paused) {
        lock.lock();
        try {
            State st = schedules.get(id);
            if (st == null) {
                return false;
            }
            unindex(st);
            st.schedule = st.schedule.toBuilder().paused(paused).build();
            st.times = FireTimes.of(st.schedule);
            index(st);
            wake.run();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<String> triggerNow(String id) {
        lock.lock();
        try {
            State st = schedules.get(id);
            if (st == null) {
                return Optional.empty();
            }
            WorkflowEvent e = st.schedule.triggered(clock.wallMillis());
            enqueue.accept(e);
            return Optional.of(e.eventId());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean delete(String id) {
        lock.lock();
        try {
            State st = schedules.remove(id);
            if (st == null) {
                return false;
            }
            unindex(st);
            buffering.remove(st);
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Instant> nextFireTimes(String id, int n) {
        lock.lock();
        try {
            State st = schedules.get(id);
            return st == null ? List.of() : st.at.nextFireTimes(st.times, n);
        } finally {
            lock.unlock();
        }
    }

    /** Takes one look at the schedule (see {@link ScheduleState#fire}) and files it under its new due time. */
    private void fire(State st, long now) {
        unindex(st);
        for (long scheduled : st.at.fire(st.times, now, finished)) {
            long dueAt = st.times.dueAt(scheduled);
            WorkflowEvent e = st.schedule.occurrence(scheduled, dueAt);
            if (batch != null) {
                batch.add(new Pending(dueAt, e));
            } else {
                enqueue.accept(e);
            }
        }
        index(st);
    }

    private void index(State st) {
        if (st.at.buffering() && !st.schedule.paused()) {
            buffering.add(st);
        } else {
            buffering.remove(st);
        }
        long dueAt = st.at.nextDue(st.times);
        if (dueAt == FireTimes.NONE) {
            return;
        }
        st.key = new Key(dueAt, ++seq);
        due.put(st.key, st);
    }

    private void unindex(State st) {
        if (st.key != null) {
            due.remove(st.key);
            st.key = null;
        }
    }

    private static ScheduleInfo info(State st) {
        return st.at.info(st.schedule);
    }
}

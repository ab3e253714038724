package dev.workflowworker.core.schedule;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Where one schedule stands between looks: its next occurrence, what it fired and skipped, the
 * occurrence that may still be running (for the overlap policy) and the one buffered behind it.
 * Every transport takes the same steps on it, so a schedule behaves the same in memory and on
 * Redis: the in-memory transport keeps it under its lock; the Redis transport stores it as text
 * ({@link #encode()}), which its fire script replaces only if it is still the text the owner
 * computed from. Not thread-safe; reads no clock.
 */
public final class ScheduleState {

    private static final long NONE = FireTimes.NONE;

    private long next = NONE;
    private long fired;
    private long skipped;
    private long lastFired = NONE;
    private long buffered = NONE;
    /** The event id of the last occurrence fired by the schedule's times; null before the first. */
    private String running;

    private ScheduleState() {
    }

    /**
     * {@return the state of a schedule created at {@code nowMillis}}: its first occurrence is the
     * first after now, so creating a schedule never fires one that is already past.
     *
     * @param times     the schedule's fire times
     * @param nowMillis the instant of creation, in epoch millis
     */
    public static ScheduleState starting(FireTimes times, long nowMillis) {
        ScheduleState s = new ScheduleState();
        s.next = times.nextAfter(nowMillis);
        return s;
    }

    /**
     * Follows a replacement of the schedule's definition: a change of timing starts it afresh
     * from now; a raised (or removed) run limit lets a schedule that ran out go on from now;
     * anything else keeps its place and counts.
     *
     * @param old       the definition replaced
     * @param times     the new definition's fire times
     * @param nowMillis the instant of the replacement, in epoch millis
     */
    public void replaced(Schedule old, FireTimes times, long nowMillis) {
        Schedule now = times.schedule();
        if (!sameTiming(old, now)) {
            // Never at or before the last fired: the caller's clock may lag the owner's, and an
            // occurrence earlier than one already fired would run out of order (or, at the same
            // instant, be taken for the one that ran).
            next = times.nextAfter(Math.max(nowMillis, lastFired));
        } else if (next == NONE && (now.limit() == 0 || now.limit() > fired)) {
            next = times.nextAfter(Math.max(nowMillis, lastFired));
        }
    }

    /**
     * Takes one look at the schedule at {@code nowMillis}: fires the buffered occurrence if its
     * predecessor finished, then the occurrences due by now, with the misfire policy (see
     * {@link FireTimes#due}) and the overlap policy applied. A paused schedule fires nothing.
     *
     * @param times     the schedule's fire times
     * @param nowMillis the instant of the look, in epoch millis
     * @param finished  whether the occurrence with this event id completed or was dead-lettered
     * @return the scheduled instants to publish now, in order (each as
     * {@link Schedule#occurrence(long, long)} with {@link FireTimes#dueAt(long)})
     */
    public List<Long> fire(FireTimes times, long nowMillis, Predicate<String> finished) {
        Schedule s = times.schedule();
        List<Long> out = new ArrayList<>(1);
        if (s.paused()) {
            return out;
        }
        if (buffered != NONE && finished.test(running)) {
            publish(s, buffered, out);
            buffered = NONE;
        }
        if (next == NONE || times.dueAt(next) > nowMillis) {
            return out;
        }
        FireTimes.Due d = times.due(next, nowMillis, fired);
        skipped += d.skipped();
        long last = NONE;
        for (long x : d.fire()) {
            fireOne(s, x, finished, out);
            last = x;
        }
        next = d.next();
        if (next == NONE && last != NONE && s.limit() > fired) {
            // The limit counted occurrences the overlap policy then skipped: the schedule goes on.
            next = times.nextAfter(last);
        }
        return out;
    }

    private void fireOne(Schedule s, long scheduled, Predicate<String> finished, List<Long> out) {
        if (buffered != NONE && finished.test(running)) {
            // The running one finished since the buffered one was looked at: the buffered one goes first.
            publish(s, buffered, out);
            buffered = NONE;
        }
        if (running != null && s.overlap() != Schedule.Overlap.ALLOW && !finished.test(running)) {
            if (s.overlap() == Schedule.Overlap.BUFFER_ONE && buffered == NONE) {
                buffered = scheduled;
            } else {
                skipped++;
            }
            return;
        }
        publish(s, scheduled, out);
    }

    private void publish(Schedule s, long scheduled, List<Long> out) {
        out.add(scheduled);
        running = s.occurrenceId(scheduled);
        fired++;
        lastFired = scheduled;
    }

    /** {@return whether an occurrence waits for its predecessor to finish} Nothing signals that, so the owner looks again soon. */
    public boolean buffering() {
        return buffered != NONE;
    }

    /**
     * {@return when the next occurrence is due, its jitter added; {@link FireTimes#NONE} when the
     * schedule is paused or has no more} A buffered occurrence is not counted here: see
     * {@link #buffering()}.
     *
     * @param times the schedule's fire times
     */
    public long nextDue(FireTimes times) {
        return times.schedule().paused() || next == NONE ? NONE : times.dueAt(next);
    }

    /** {@return the event id of the last occurrence fired by the schedule's times, or null} */
    public String running() {
        return running;
    }

    /**
     * {@return the next {@code n} fire times from where the schedule stands, within its run limit}
     *
     * @param times the schedule's fire times
     * @param n     how many
     */
    public List<Instant> nextFireTimes(FireTimes times, int n) {
        if (next == NONE || n <= 0) {
            return List.of();
        }
        List<Instant> out = new ArrayList<>(times.next(Instant.ofEpochMilli(next - 1), n));
        long limit = times.schedule().limit();
        if (limit > 0 && out.size() > limit - fired) {
            return List.copyOf(out.subList(0, (int) Math.max(0, limit - fired)));
        }
        return out;
    }

    /**
     * {@return what a caller sees of the schedule}
     *
     * @param schedule the schedule's definition
     */
    public ScheduleInfo info(Schedule schedule) {
        return new ScheduleInfo(schedule, next == NONE ? null : Instant.ofEpochMilli(next),
                lastFired == NONE ? null : Instant.ofEpochMilli(lastFired), fired, skipped);
    }

    /**
     * {@return the state as text: equal states give equal text}, so a compare-and-set of the text
     * is one of the state. The event id goes last: it may hold any character but a newline.
     */
    public String encode() {
        return next + "," + fired + "," + skipped + "," + lastFired + "," + buffered + ","
                + (running == null ? "" : "=" + running);
    }

    /**
     * {@return the state {@link #encode()} wrote}
     *
     * @param text the encoded state
     * @throws IllegalArgumentException if the text is not an encoded state
     */
    public static ScheduleState decode(String text) {
        Objects.requireNonNull(text, "text");
        String[] p = text.split(",", 6);
        if (p.length != 6 || !(p[5].isEmpty() || p[5].startsWith("="))) {
            throw new IllegalArgumentException("not a schedule state: " + text);
        }
        try {
            ScheduleState s = new ScheduleState();
            s.next = Long.parseLong(p[0]);
            s.fired = Long.parseLong(p[1]);
            s.skipped = Long.parseLong(p[2]);
            s.lastFired = Long.parseLong(p[3]);
            s.buffered = Long.parseLong(p[4]);
            s.running = p[5].isEmpty() ? null : p[5].substring(1);
            return s;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a schedule state: " + text, e);
        }
    }

    private static boolean sameTiming(Schedule a, Schedule b) {
        return Objects.equals(a.cron(), b.cron()) && Objects.equals(a.interval(), b.interval())
                && a.zone().equals(b.zone()) && Objects.equals(a.start(), b.start())
                && Objects.equals(a.end(), b.end()) && a.jitter().equals(b.jitter()) && a.gap() == b.gap();
    }
}

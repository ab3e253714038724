package dev.workflowworker.core.schedule;

import com.cronutils.model.time.ExecutionTime;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A schedule's occurrences in time: the scheduled instants after a given one, the instant each
 * is due (its jitter added), and what to fire when an owner looks at the schedule late. Pure
 * functions of the schedule and the instants passed in — it reads no clock — so every owner, now
 * or after a failover, computes the same occurrences, and tests drive it with any instants.
 * Thread-safe.
 */
public final class FireTimes {

    /** Returned by {@link #nextAfter(long)} when the schedule has no further occurrence. */
    public static final long NONE = Long.MIN_VALUE;
    /**
     * The most occurrences one {@link #due} call walks: a long outage of a frequent schedule is
     * caught up in several calls, each bounded, rather than in one that runs for seconds.
     */
    static final int MAX_WALK = 10_000;
    /** Candidates one cron lookup may pass over (a skipped repeated hour of an every-second cron is 3,600). */
    private static final int MAX_CANDIDATES = 100_000;

    private final Schedule schedule;
    private final ExecutionTime cron;
    private final long intervalMillis;
    private final long anchorMillis;
    private final long startMillis;
    private final long endMillis;
    private final long jitterMillis;

    private FireTimes(Schedule schedule) {
        this.schedule = schedule;
        this.cron = schedule.cron() != null ? CronSyntax.parse(schedule.cron()) : null;
        this.intervalMillis = schedule.interval() != null ? schedule.interval().toMillis() : 0;
        this.anchorMillis = schedule.start() != null ? schedule.start().toEpochMilli() : 0;
        this.startMillis = schedule.start() != null ? schedule.start().toEpochMilli() : Long.MIN_VALUE;
        this.endMillis = schedule.end() != null ? schedule.end().toEpochMilli() : Long.MAX_VALUE;
        this.jitterMillis = schedule.jitter().toMillis();
    }

    /**
     * {@return the occurrences of {@code schedule}}
     *
     * @param schedule a schedule
     */
    public static FireTimes of(Schedule schedule) {
        return new FireTimes(schedule);
    }

    /** {@return the schedule these are the occurrences of} */
    public Schedule schedule() {
        return schedule;
    }

    /**
     * {@return the first scheduled instant strictly after {@code afterMillis}, in epoch millis, or
     * {@link #NONE}} Start and end bound it; the run limit does not (it depends on what fired).
     *
     * @param afterMillis an instant in epoch millis
     */
    public long nextAfter(long afterMillis) {
        long after = startMillis != Long.MIN_VALUE ? Math.max(afterMillis, startMillis - 1) : afterMillis;
        long next = cron != null ? nextCron(after) : nextInterval(after);
        return next == NONE || next > endMillis ? NONE : next;
    }

    /**
     * {@return up to {@code n} scheduled instants after {@code after}, earliest first}
     *
     * @param after an instant
     * @param n     how many at most
     */
    public List<Instant> next(Instant after, int n) {
        if (n < 0) {
            throw new IllegalArgumentException("n must not be negative, was " + n);
        }
        List<Instant> out = new ArrayList<>(Math.min(n, 1024));
        long t = after.toEpochMilli();
        while (out.size() < n) {
            t = nextAfter(t);
            if (t == NONE) {
                break;
            }
            out.add(Instant.ofEpochMilli(t));
        }
        return out;
    }

    /**
     * {@return when the occurrence scheduled at {@code scheduledMillis} is due: that instant plus
     * its jitter} The jitter is a hash of the schedule id and the instant, so it is the same
     * wherever and however often it is computed, and at most {@link Schedule#jitter()}.
     *
     * @param scheduledMillis the occurrence's scheduled instant, in epoch millis
     */
    public long dueAt(long scheduledMillis) {
        if (jitterMillis == 0) {
            return scheduledMillis;
        }
        long h = mix(schedule.id().hashCode() * 0x9E3779B97F4A7C15L + scheduledMillis);
        return scheduledMillis + Math.floorMod(h, jitterMillis + 1);
    }

    /**
     * What to fire when the owner looks at the schedule at {@code nowMillis}: the occurrences from
     * {@code fromScheduled} (the schedule's next scheduled instant, not fired yet) that are due by
     * now, with the misfire policy applied to those more than {@link Schedule#misfireThreshold()}
     * late, and the run limit to all. Skips are counted exactly, except in an outage so long that
     * more than {@value #MAX_WALK} occurrences of a cron schedule were missed: those jumped over are
     * not counted.
     *
     * @param fromScheduled the first occurrence not yet handled, as returned by {@link #nextAfter}
     *                      or by a previous {@link Due#next()}
     * @param nowMillis     the instant of the look, in epoch millis
     * @param firedSoFar    how many occurrences fired before, for the run limit
     * @return what to fire, what was skipped and where the schedule goes on
     */
    public Due due(long fromScheduled, long nowMillis, long firedSoFar) {
        long threshold = schedule.misfireThreshold().toMillis();
        long window = schedule.catchUpWindow().toMillis();
        long room = schedule.limit() == 0 ? Long.MAX_VALUE : Math.max(0, schedule.limit() - firedSoFar);
        List<Long> fire = new ArrayList<>();
        long skipped = 0;
        long coalesced = NONE;
        long s = fromScheduled;
        int walked = 0;
        boolean jumped = false;
        // Occurrences fire in order, so one cannot fire before its predecessor did: with a jitter
        // larger than the interval, its lateness counts from the latest due instant walked so far,
        // not from its own (earlier) one, or an owner that never missed a look would skip it.
        long readyAt = Long.MIN_VALUE;
        while (s != NONE && dueAt(s) <= nowMillis) {
            if (walked == MAX_WALK) {
                long horizon = schedule.misfire() == Schedule.Misfire.FIRE_ALL ? Math.max(window, threshold) : threshold;
                if (jumped || nowMillis - Math.max(readyAt, dueAt(s)) <= horizon) {
                    break; // the rest is handled by the next look, from s
                }
                // Deep in a long outage: what lies before the horizon is skipped (or coalesced) anyway,
                // so jump to it instead of walking every occurrence. Only an interval's skips can be counted.
                long resume = nextAfter(nowMillis - horizon - jitterMillis - 1);
                if (resume != NONE && resume <= s) {
                    // With jitter the horizon can lie behind s: jumping there would walk backwards and
                    // fire or count occurrences twice. Walk on from s instead, once more bounded.
                    jumped = true;
                    walked = 0;
                    continue;
                }
                long over = intervalMillis > 0 && resume != NONE ? (resume - s) / intervalMillis : 0;
                if (schedule.misfire() == Schedule.Misfire.FIRE_ONCE) {
                    if (coalesced != NONE) {
                        skipped++;
                    }
                    // The one that fires is the latest missed: the last occurrence jumped over, not s.
                    long latest = intervalMillis > 0 && resume != NONE ? resume - intervalMillis : s;
                    coalesced = latest >= s ? latest : s;
                    over = Math.max(0, over - 1);
                }
                skipped += over;
                s = resume;
                jumped = true;
                walked = 0;
                continue;
            }
            walked++;
            readyAt = Math.max(readyAt, dueAt(s));
            long late = nowMillis - readyAt;
            if (late <= threshold) {
                fire.add(s);
            } else {
                switch (schedule.misfire()) {
                    case SKIP -> skipped++;
                    case FIRE_ALL -> {
                        if (late <= window) {
                            fire.add(s);
                        } else {
                            skipped++;
                        }
                    }
                    case FIRE_ONCE -> {
                        if (coalesced != NONE) {
                            skipped++;
                        }
                        coalesced = s;
                    }
                }
            }
            s = nextAfter(s);
        }
        if (coalesced != NONE) {
            // The missed occurrences all come before the on-time ones: the one that fires for them goes first.
            fire.add(0, coalesced);
        }
        boolean limited = fire.size() > room;
        if (limited) {
            fire = new ArrayList<>(fire.subList(0, (int) room));
        }
        if (limited || (schedule.limit() > 0 && firedSoFar + fire.size() >= schedule.limit())) {
            s = NONE;
        }
        return new Due(List.copyOf(fire), skipped, s);
    }

    /**
     * What one look at a schedule decided.
     *
     * @param fire    the scheduled instants to fire now, earliest first
     * @param skipped how many occurrences were skipped by the misfire policy
     * @param next    the first occurrence not handled yet (possibly already due, when the walk was
     *                bounded), or {@link #NONE} when the schedule has no more
     */
    public record Due(List<Long> fire, long skipped, long next) {
    }

    private long nextInterval(long after) {
        if (after < anchorMillis) {
            return anchorMillis;
        }
        long k = Math.floorDiv(after - anchorMillis, intervalMillis) + 1;
        return anchorMillis + k * intervalMillis;
    }

    /**
     * Cron fields are matched against wall-clock times read as if they were UTC, where no day has a
     * gap or a repeat; each matching wall-clock time is then placed in the zone by the schedule's
     * rules. cron-utils thereby never sees a DST change, and what a change does is decided here.
     *
     * <p>Placing is not monotonic around a spring-forward gap: a time in the gap shifts by the gap's
     * length, past times after the gap that come later on the wall clock (02:10 on Lord Howe's
     * half-hour gap fires at 02:40, after 02:35). So the walk starts from the wall-clock time of
     * {@code after} read with the smallest nearby offset (so gap times whose shifted instant is still
     * ahead are seen), and keeps the earliest instant found until no later wall-clock time can place
     * before it.
     */
    private long nextCron(long after) {
        java.time.zone.ZoneRules rules = schedule.zone().getRules();
        Instant a = Instant.ofEpochMilli(after);
        int minOffset = Math.min(rules.getOffset(a).getTotalSeconds(),
                rules.getOffset(a.minus(java.time.Duration.ofDays(2))).getTotalSeconds());
        ZonedDateTime cursor = LocalDateTime.ofInstant(a, ZoneOffset.ofTotalSeconds(minOffset))
                .truncatedTo(ChronoUnit.SECONDS).atZone(ZoneOffset.UTC);
        long best = NONE;
        long maxOffsetMillis = 0;
        for (int i = 0; i < MAX_CANDIDATES; i++) {
            Optional<ZonedDateTime> candidate = cron.nextExecution(cursor);
            if (candidate.isEmpty()) {
                break;
            }
            cursor = candidate.get();
            LocalDateTime wall = cursor.toLocalDateTime();
            long wallMillis = cursor.toInstant().toEpochMilli();
            if (best != NONE && wallMillis - maxOffsetMillis >= best) {
                break; // no wall-clock time from here on places before best
            }
            boolean inGap = rules.getValidOffsets(wall).isEmpty();
            if (inGap && schedule.gap() == Schedule.Gap.SKIP) {
                continue;
            }
            // ofLocal shifts a time in a gap forward by the gap's length and, in a repeated hour, takes
            // the earlier offset: the first pass of the hour fires, the second finds only earlier instants.
            long at = ZonedDateTime.ofLocal(wall, schedule.zone(), null).toInstant().toEpochMilli();
            if (at > after && (best == NONE || at < best)) {
                best = at;
                maxOffsetMillis = maxOffsetMillis(rules, a, Instant.ofEpochMilli(best));
                if (wallMillis - maxOffsetMillis >= best) {
                    break;
                }
            }
            if (best == NONE && at > endMillis) {
                return NONE;
            }
        }
        return best;
    }

    /** The largest offset in effect between two instants, in millis. */
    private static long maxOffsetMillis(java.time.zone.ZoneRules rules, Instant from, Instant to) {
        int max = Math.max(rules.getOffset(from).getTotalSeconds(), rules.getOffset(to).getTotalSeconds());
        java.time.zone.ZoneOffsetTransition t = rules.nextTransition(from);
        while (t != null && !t.getInstant().isAfter(to)) {
            max = Math.max(max, Math.max(t.getOffsetBefore().getTotalSeconds(), t.getOffsetAfter().getTotalSeconds()));
            t = rules.nextTransition(t.getInstant());
        }
        return max * 1000L;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

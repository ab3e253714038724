package dev.workflowworker.core.schedule;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Review of issue K's first slice: promises of FireTimes that do not hold. */
class FireTimesReviewTest {

    private static Schedule.Builder cron(String expression, String zone) {
        return Schedule.cron("s", expression).eventType("TICK").zone(zone);
    }

    private static List<Instant> next(Schedule s, String afterUtc, int n) {
        return FireTimes.of(s).next(Instant.parse(afterUtc), n);
    }

    private static Instant at(String local, String zone) {
        return ZonedDateTime.ofLocal(LocalDateTime.parse(local), ZoneId.of(zone), null).toInstant();
    }

    /**
     * Every cron time in the gap fires at its shifted instant (02:15 -> 03:15, 02:30 -> 03:30 ...),
     * not only the first: the walk restarts from the wall-clock time of the instant it returned
     * (03:00), which lies past the remaining gap times, so 02:15, 02:30 and 02:45 are lost.
     */
    @Test
    void everyGapTimeOfTheDayFiresShiftedNotOnlyTheFirst() {
        Schedule s = cron("*/15 2 * * *", "Europe/Berlin").build();
        String z = "Europe/Berlin";
        assertEquals(List.of(at("2027-03-27T02:45", z), at("2027-03-28T03:00", z), at("2027-03-28T03:15", z),
                        at("2027-03-28T03:30", z), at("2027-03-28T03:45", z), at("2027-03-29T02:00", z)),
                next(s, "2027-03-27T01:40:00Z", 6));
    }

    @Test
    void sixFieldCronWithSecondsInsideTheGapFiresEachShiftedSecond() {
        Schedule s = cron("*/20 30 2 * * *", "America/New_York").build();
        String z = "America/New_York";
        // 2027-03-14 02:00 EST becomes 03:00 EDT.
        assertEquals(List.of(at("2027-03-14T03:30:00", z), at("2027-03-14T03:30:20", z), at("2027-03-14T03:30:40", z),
                        at("2027-03-15T02:30:00", z)),
                next(s, "2027-03-14T06:00:00Z", 4));
    }

    /**
     * Lord Howe springs forward 30 minutes (02:00 -> 02:30). 02:10 shifts to 02:40, but 02:35 exists
     * and comes earlier; the walk returns 02:40 first and never looks back, so 02:35 never fires.
     */
    @Test
    void lordHoweHalfHourGapLosesAnExistingTimeAfterAShiftedOne() {
        String z = "Australia/Lord_Howe";
        Schedule s = cron("10,35 2 * * *", z).build();
        // 2026-10-04: first Sunday of October, 02:00 LHST (+10:30) becomes 02:30 LHDT (+11).
        List<Instant> got = next(s, at("2026-10-04T01:00", z).toString(), 3);
        assertEquals(List.of(at("2026-10-04T02:35", z), at("2026-10-04T02:40", z), at("2026-10-05T02:10", z)), got);
    }

    /**
     * Invariants over a year of transitions in several zones: every matching wall-clock time fires at
     * its placed instant (shifted in a gap, first pass in a repeat), increasing, none twice, none lost,
     * and the same instants whatever instant the walk starts from.
     */
    @Test
    void occurrencesAcrossAYearOfTransitionsAreTheSameWhereverTheWalkStarts() {
        for (String z : List.of("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Caracas",
                "Pacific/Apia", "Europe/Volgograd")) {
            ZoneId zone = ZoneId.of(z);
            for (String c : List.of("*/15 * * * *", "*/7 2 * * *", "10,35 2 * * *", "50 1,2 * * *", "0 0 * * *",
                    "*/20 30 2 * * *")) {
                Schedule s = cron(c, z).build();
                FireTimes t = FireTimes.of(s);
                Instant from = Instant.parse(switch (z) {
                    case "America/Caracas" -> "2016-04-25T00:00:00Z";
                    case "Pacific/Apia" -> "2011-12-25T00:00:00Z";
                    case "Europe/Volgograd" -> "2020-12-20T00:00:00Z";
                    default -> "2026-01-01T00:00:00Z";
                });
                Instant until = from.plus(Duration.ofDays(z.startsWith("Europe/V") || z.startsWith("Pacific")
                        || z.endsWith("Caracas") ? 14 : 366));
                // The reference: every matching wall time of the period, placed by ofLocal.
                Set<Instant> expected = new java.util.TreeSet<>();
                com.cronutils.model.time.ExecutionTime ex = CronSyntax.parse(c);
                ZonedDateTime w = LocalDateTime.ofInstant(from, zone).minusDays(2).atZone(java.time.ZoneOffset.UTC);
                LocalDateTime stop = LocalDateTime.ofInstant(until, zone).plusDays(2);
                while (w.toLocalDateTime().isBefore(stop)) {
                    w = ex.nextExecution(w).orElseThrow();
                    Instant i = ZonedDateTime.ofLocal(w.toLocalDateTime(), zone, null).toInstant();
                    if (i.isAfter(from) && !i.isAfter(until)) {
                        expected.add(i);
                    }
                }
                List<Instant> want = new ArrayList<>(expected);
                List<Instant> got = new ArrayList<>();
                for (Instant i : t.next(from, want.size() + 1)) {
                    if (!i.isAfter(until)) {
                        got.add(i);
                    }
                }
                int k = 0;
                while (k < Math.min(want.size(), got.size()) && want.get(k).equals(got.get(k))) {
                    k++;
                }
                if (k < Math.max(want.size(), got.size())) {
                    throw new AssertionError(z + " '" + c + "': first difference at index " + k + ": expected "
                            + (k < want.size() ? want.get(k) + " (" + want.get(k).atZone(zone).toLocalDateTime() + ")" : "none")
                            + " but was " + (k < got.size() ? got.get(k) + " (" + got.get(k).atZone(zone).toLocalDateTime() + ")" : "none"));
                }
                // The same next occurrence from any instant, e.g. a new owner resuming from a stored instant.
                for (int j = 0; j + 1 < want.size(); j += 97) {
                    long mid = (want.get(j).toEpochMilli() + want.get(j + 1).toEpochMilli()) / 2;
                    assertEquals(want.get(j + 1).toEpochMilli(), t.nextAfter(mid), z + " '" + c + "' from " + Instant.ofEpochMilli(mid));
                }
            }
        }
    }

    /**
     * The jump of a long outage lands on nextAfter(now - horizon - jitter - 1), which with jitter can
     * be before the occurrence the walk stopped at: the walk goes backwards, fires occurrences it
     * already fired and counts skips twice.
     */
    @Test
    void theOutageJumpNeverGoesBackwards() {
        Schedule s = Schedule.every("j", Duration.ofSeconds(1)).eventType("T").start(Instant.EPOCH)
                .jitter(Duration.ofMinutes(10)).misfire(Schedule.Misfire.FIRE_ALL).build();
        FireTimes t = FireTimes.of(s);
        int found = 0;
        for (long k = 0; k < 200 && found < 5; k++) {
            long s10000 = FireTimes.MAX_WALK * 1000L; // the occurrence the first walk stops at (from = 0)
            long now = t.dueAt(s10000) + 3_600_000 + 1 + k * 1000; // more than the 1 h window late
            if (now - s10000 >= 3_600_000 + 600_000) {
                break;
            }
            found++;
            FireTimes.Due d = t.due(0, now, 0);
            Set<Long> unique = new HashSet<>(d.fire());
            assertEquals(d.fire().size(), unique.size(), "an occurrence fired twice in one look, now=" + now);
            for (int i = 1; i < d.fire().size(); i++) {
                assertTrue(d.fire().get(i) > d.fire().get(i - 1), "fire list not increasing, now=" + now);
            }
            long total = d.fire().size() + d.skipped();
            long walked = (d.next() - 0) / 1000; // occurrences in [0, next)
            assertEquals(walked, total, "every occurrence before next is fired or skipped exactly once, now=" + now);
        }
        assertTrue(found > 0);
    }

    /**
     * FIRE_ONCE fires "the latest missed" occurrence. After the jump of a long outage it fires the
     * occurrence the walk stopped at (2.8 hours into a 5 hour outage) instead of the latest missed one.
     */
    @Test
    void fireOnceAfterALongOutageFiresTheLatestMissedOccurrence() {
        Schedule s = Schedule.every("o", Duration.ofSeconds(1)).eventType("T").start(Instant.EPOCH).build();
        FireTimes t = FireTimes.of(s);
        long now = 5 * 3_600_000L;
        FireTimes.Due d = t.due(0, now, 0);
        // missed: late > 60 s, i.e. scheduled before now - 60 s; the latest is now - 61 s.
        assertEquals(now - 61_000, (long) d.fire().get(0));
        assertEquals(1 + 61, d.fire().size(), "then the 61 on-time ones");
        assertEquals((now - 61_000) / 1000, d.skipped(), "all missed but the one fired are skipped");
    }
    /**
     * An owner that is up and looks exactly when the next occurrence is due (as MemoryTimers does,
     * indexing a schedule by dueAt(next)) misses nothing. With a jitter larger than the interval,
     * due() stops at the first occurrence not due yet, so a later occurrence with a smaller jitter,
     * due earlier, is only looked at when its predecessor is due, minutes late: SKIP skips it
     * (FIRE_ONCE coalesces it) although no owner was ever down. The builder accepts such a jitter.
     */
    @Test
    void anOwnerThatNeverMissesALookSkipsNothingWhenTheJitterExceedsTheInterval() {
        Schedule s = Schedule.every("j", Duration.ofMinutes(1)).eventType("T").start(Instant.EPOCH)
                .jitter(Duration.ofMinutes(5)).misfire(Schedule.Misfire.SKIP).build();
        FireTimes t = FireTimes.of(s);
        long from = t.nextAfter(0);
        long skipped = 0;
        long fired = 0;
        for (int look = 0; look < 1440 && from != FireTimes.NONE; look++) {
            long now = t.dueAt(from);
            FireTimes.Due d = t.due(from, now, fired);
            skipped += d.skipped();
            fired += d.fire().size();
            from = d.next();
        }
        assertEquals(0, skipped, "skipped while the owner looked at every due time (fired " + fired + ")");
    }
}

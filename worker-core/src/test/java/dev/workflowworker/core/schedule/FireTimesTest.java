package dev.workflowworker.core.schedule;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FireTimesTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

    private static Schedule.Builder cron(String expression) {
        return Schedule.cron("s", expression).eventType("TICK");
    }

    private static List<Instant> next(Schedule s, String afterUtc, int n) {
        return FireTimes.of(s).next(Instant.parse(afterUtc), n);
    }

    private static List<Instant> utc(String... instants) {
        List<Instant> out = new ArrayList<>();
        for (String i : instants) {
            out.add(Instant.parse(i));
        }
        return out;
    }

    private static long ms(String utc) {
        return Instant.parse(utc).toEpochMilli();
    }

    @Nested
    class DaylightSaving {

        @Test
        void berlinSpringForwardShiftsATimeInTheGapByTheGapsLength() {
            // 2027-03-28: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day.
            Schedule s = cron("30 2 * * *").zone(BERLIN).build();
            assertEquals(utc("2027-03-27T01:30:00Z", "2027-03-28T01:30:00Z", "2027-03-29T00:30:00Z"),
                    next(s, "2027-03-27T00:00:00Z", 3));
            assertEquals(LocalDateTime.parse("2027-03-28T03:30"),
                    ZonedDateTime.ofInstant(Instant.parse("2027-03-28T01:30:00Z"), BERLIN).toLocalDateTime());
        }

        @Test
        void berlinSpringForwardCanSkipTheDayInstead() {
            Schedule s = cron("30 2 * * *").zone(BERLIN).gap(Schedule.Gap.SKIP).build();
            assertEquals(utc("2027-03-27T01:30:00Z", "2027-03-29T00:30:00Z"), next(s, "2027-03-27T00:00:00Z", 2));
        }

        @Test
        void berlinFallBackFiresTheRepeatedHourOnce() {
            // 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens at 00:30Z and again at 01:30Z.
            Schedule s = cron("30 2 * * *").zone(BERLIN).build();
            assertEquals(utc("2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"),
                    next(s, "2026-10-24T00:00:00Z", 3));
        }

        @Test
        void aFrequentCronDoesNotRunTheRepeatedHourTwice() {
            Schedule s = cron("*/30 * * * *").zone(BERLIN).build();
            // First pass of 02:xx at 00:00Z and 00:30Z; the second pass (01:00Z, 01:30Z) does not fire again.
            assertEquals(utc("2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z"),
                    next(s, "2026-10-24T23:45:00Z", 3));
            // Asked from inside the second pass, the next occurrence is after it.
            assertEquals(utc("2026-10-25T02:00:00Z"), next(s, "2026-10-25T01:10:00Z", 1));
        }

        @Test
        void aFrequentCronThroughTheGapFiresEachRealInstantOnce() {
            Schedule s = cron("*/30 * * * *").zone(BERLIN).build();
            // 01:30 CET (00:30Z), then 02:00 shifted to 03:00 CEST (01:00Z), then 03:30 CEST (01:30Z).
            assertEquals(utc("2027-03-28T00:30:00Z", "2027-03-28T01:00:00Z", "2027-03-28T01:30:00Z"),
                    next(s, "2027-03-28T00:15:00Z", 3));
        }

        @Test
        void newYorkSpringForwardAndFallBack() {
            // 2027-03-14: 02:00 EST becomes 03:00 EDT.
            Schedule gap = cron("15 2 * * *").zone(NEW_YORK).build();
            assertEquals(utc("2027-03-13T07:15:00Z", "2027-03-14T07:15:00Z", "2027-03-15T06:15:00Z"),
                    next(gap, "2027-03-13T00:00:00Z", 3));
            // 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:30 happens at 05:30Z and 06:30Z.
            Schedule repeat = cron("30 1 * * *").zone(NEW_YORK).build();
            assertEquals(utc("2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"),
                    next(repeat, "2026-10-31T00:00:00Z", 3));
        }

        @Test
        void intervalsIgnoreTheZone() {
            Schedule s = Schedule.every("s", Duration.ofHours(1)).eventType("TICK").zone(BERLIN).build();
            assertEquals(utc("2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"),
                    next(s, "2026-10-24T23:30:00Z", 3));
        }
    }

    @Nested
    class Calendar {

        @Test
        void leapDaysComeEveryFourYears() {
            Schedule s = cron("0 12 29 2 *").build();
            assertEquals(utc("2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"), next(s, "2026-12-06T00:00:00Z", 2));
        }

        @Test
        void theThirtyFirstSkipsShortMonths() {
            Schedule s = cron("0 0 31 * *").build();
            assertEquals(utc("2027-01-31T00:00:00Z", "2027-03-31T00:00:00Z", "2027-05-31T00:00:00Z"),
                    next(s, "2026-12-31T00:00:00Z", 3));
        }

        @Test
        void dayOfMonthAndDayOfWeekMatchEitherAsInUnixCron() {
            // The 13th, or any Friday: 2026-12-11 (Fri), 12-13 (Sun, the 13th), 12-18 (Fri).
            Schedule s = cron("0 0 13 * 5").build();
            assertEquals(utc("2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z", "2026-12-18T00:00:00Z"),
                    next(s, "2026-12-10T00:00:00Z", 3));
        }

        @Test
        void sundayIsZeroOrSeven() {
            assertEquals(next(cron("0 9 * * 0").build(), "2026-12-06T10:00:00Z", 2),
                    next(cron("0 9 * * 7").build(), "2026-12-06T10:00:00Z", 2));
            assertEquals(utc("2026-12-13T09:00:00Z"), next(cron("0 9 * * 7").build(), "2026-12-06T10:00:00Z", 1));
        }

        @Test
        void sixFieldsReadTheFirstAsSeconds() {
            Schedule s = cron("*/15 * * * * *").build();
            assertEquals(utc("2026-12-06T10:00:15Z", "2026-12-06T10:00:30Z"), next(s, "2026-12-06T10:00:00.500Z", 2));
        }

        @Test
        void macrosAreTheirCrontabLines() {
            assertEquals(utc("2026-12-07T00:00:00Z"), next(cron("@daily").build(), "2026-12-06T10:00:00Z", 1));
            assertEquals(utc("2026-12-06T11:00:00Z"), next(cron("@hourly").build(), "2026-12-06T10:00:00Z", 1));
            assertEquals(utc("2027-01-01T00:00:00Z"), next(cron("@yearly").build(), "2026-12-06T10:00:00Z", 1));
            assertEquals(utc("2026-12-13T00:00:00Z"), next(cron("@weekly").build(), "2026-12-06T10:00:00Z", 1));
        }

        @Test
        void anOccurrenceIsStrictlyAfterTheInstantAsked() {
            Schedule s = cron("0 * * * *").build();
            assertEquals(utc("2026-12-06T11:00:00Z"), next(s, "2026-12-06T10:00:00Z", 1));
            assertEquals(utc("2026-12-06T10:00:00Z"), next(s, "2026-12-06T09:59:59.999Z", 1));
        }

        @Test
        void intervalsCountFromTheStartOrTheEpoch() {
            Schedule epoch = Schedule.every("s", Duration.ofMinutes(15)).eventType("TICK").build();
            assertEquals(utc("2026-12-06T10:15:00Z", "2026-12-06T10:30:00Z"), next(epoch, "2026-12-06T10:07:00Z", 2));
            Schedule started = Schedule.every("s", Duration.ofMinutes(15)).eventType("TICK")
                    .start(Instant.parse("2026-12-06T10:05:00Z")).build();
            assertEquals(utc("2026-12-06T10:05:00Z", "2026-12-06T10:20:00Z"), next(started, "2026-12-06T09:00:00Z", 2));
        }

        @Test
        void startAndEndBoundTheOccurrences() {
            Schedule s = cron("0 * * * *").start(Instant.parse("2026-12-06T12:00:00Z"))
                    .end(Instant.parse("2026-12-06T14:00:00Z")).build();
            assertEquals(utc("2026-12-06T12:00:00Z", "2026-12-06T13:00:00Z", "2026-12-06T14:00:00Z"),
                    next(s, "2026-12-06T00:00:00Z", 10));
            assertEquals(FireTimes.NONE, FireTimes.of(s).nextAfter(ms("2026-12-06T14:00:00Z")));
        }
    }

    @Nested
    class Misfires {

        private final Schedule.Builder everyMinute = Schedule.every("m", Duration.ofMinutes(1)).eventType("TICK")
                .misfireThreshold(Duration.ofSeconds(30));

        @Test
        void onTimeOccurrencesAllFire() {
            FireTimes t = FireTimes.of(everyMinute.build());
            // 10:00 is 25 s late, within the threshold: it fires; 10:01 is not due yet.
            FireTimes.Due due = t.due(ms("2026-12-06T10:00:00Z"), ms("2026-12-06T10:00:25Z"), 0);
            assertEquals(List.of(ms("2026-12-06T10:00:00Z")), due.fire());
            assertEquals(0, due.skipped());
            assertEquals(ms("2026-12-06T10:01:00Z"), due.next());
        }

        @Test
        void fireOnceCoalescesTheMissedIntoTheLatestAndStillFiresTheOnTimeOnes() {
            FireTimes t = FireTimes.of(everyMinute.build());
            // Down from before 10:00 until 10:10:20: 10:00..10:09 missed (more than 30 s late), 10:10 on time.
            FireTimes.Due due = t.due(ms("2026-12-06T10:00:00Z"), ms("2026-12-06T10:10:20Z"), 0);
            assertEquals(List.of(ms("2026-12-06T10:09:00Z"), ms("2026-12-06T10:10:00Z")), due.fire());
            assertEquals(9, due.skipped());
            assertEquals(ms("2026-12-06T10:11:00Z"), due.next());
        }

        @Test
        void fireAllCatchesUpWithinTheWindowOnly() {
            FireTimes t = FireTimes.of(everyMinute.misfire(Schedule.Misfire.FIRE_ALL)
                    .catchUpWindow(Duration.ofMinutes(3)).build());
            FireTimes.Due due = t.due(ms("2026-12-06T10:00:00Z"), ms("2026-12-06T10:10:20Z"), 0);
            // Within 3 minutes of 10:10:20: 10:08, 10:09 (missed, caught up) and 10:10 (on time).
            assertEquals(List.of(ms("2026-12-06T10:08:00Z"), ms("2026-12-06T10:09:00Z"), ms("2026-12-06T10:10:00Z")),
                    due.fire());
            assertEquals(8, due.skipped());
        }

        @Test
        void skipFiresOnlyWhatIsOnTime() {
            FireTimes t = FireTimes.of(everyMinute.misfire(Schedule.Misfire.SKIP).build());
            FireTimes.Due due = t.due(ms("2026-12-06T10:00:00Z"), ms("2026-12-06T10:10:20Z"), 0);
            assertEquals(List.of(ms("2026-12-06T10:10:00Z")), due.fire());
            assertEquals(10, due.skipped());
            assertEquals(ms("2026-12-06T10:11:00Z"), due.next());
        }

        @Test
        void theRunLimitEndsTheSchedule() {
            FireTimes t = FireTimes.of(everyMinute.misfire(Schedule.Misfire.FIRE_ALL).limit(5).build());
            FireTimes.Due due = t.due(ms("2026-12-06T10:00:00Z"), ms("2026-12-06T10:10:20Z"), 3);
            assertEquals(List.of(ms("2026-12-06T10:00:00Z"), ms("2026-12-06T10:01:00Z")), due.fire());
            assertEquals(FireTimes.NONE, due.next());
            FireTimes.Due last = t.due(ms("2026-12-06T10:00:00Z"), ms("2026-12-06T10:00:10Z"), 4);
            assertEquals(List.of(ms("2026-12-06T10:00:00Z")), last.fire());
            assertEquals(FireTimes.NONE, last.next());
        }

        @Test
        void aLongOutageOfAFrequentScheduleIsCaughtUpInBoundedSteps() {
            FireTimes t = FireTimes.of(Schedule.every("s", Duration.ofSeconds(1)).eventType("TICK").build());
            long from = ms("2026-12-01T00:00:00Z");
            long now = ms("2026-12-06T00:00:00.500Z");
            FireTimes.Due due = t.due(from, now, 0);
            // 5 days of seconds (and one) were due; those at most a minute late (the default threshold)
            // are on time: 23:59:01 to 00:00:00.
            long onTime = 60;
            long missed = 5L * 86_400 + 1 - onTime;
            assertEquals(onTime + 1, due.fire().size(), "the on-time ones and one for all the missed");
            assertEquals(missed - 1, due.skipped());
            assertEquals(ms("2026-12-06T00:00:01Z"), due.next());
        }

        @Test
        void anOccurrenceIsDueAtItsJitterWhichEveryOwnerComputesAlike() {
            Schedule s = everyMinute.jitter(Duration.ofSeconds(20)).build();
            FireTimes a = FireTimes.of(s);
            FireTimes b = FireTimes.of(s.toBuilder().build());
            boolean someJitter = false;
            for (long k = 0; k < 200; k++) {
                long at = ms("2026-12-06T10:00:00Z") + k * 60_000;
                long due = a.dueAt(at);
                assertEquals(due, b.dueAt(at));
                assertTrue(due >= at && due <= at + 20_000, "within the bound: " + (due - at));
                someJitter |= due != at;
            }
            assertTrue(someJitter);
            // Not due before its jitter has passed.
            long at = ms("2026-12-06T10:00:00Z");
            while (a.dueAt(at) == at) {
                at += 60_000;
            }
            assertEquals(List.of(), a.due(at, a.dueAt(at) - 1, 0).fire());
            assertEquals(List.of(at), a.due(at, a.dueAt(at), 0).fire());
        }
    }

    @Nested
    class Settings {

        @Test
        void aBadCronIsRefusedNamingTheSchedule() {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cron("61 * * * *").build());
            assertTrue(e.getMessage().startsWith("schedule 's': cron '61 * * * *' "), e.getMessage());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> cron("* * *").build()).getMessage()
                    .contains("has 3 fields"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> cron("@sometimes").build()).getMessage()
                    .contains("unknown macro '@sometimes'"));
        }

        @Test
        void otherBadSettingsAreNamed() {
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> Schedule.every("s", Duration.ofMillis(10)).eventType("T").build()).getMessage()
                    .contains("interval must be at least"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> Schedule.cron("s", "@daily").build()).getMessage().contains("eventType must be set"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> Schedule.cron("bad id", "@daily").eventType("T").build()).getMessage()
                    .contains("schedule id 'bad id'"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> cron("@daily").zone("Mars/Olympus").build()).getMessage()
                    .contains("zone 'Mars/Olympus'"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> cron("@daily").start(Instant.parse("2026-12-06T00:00:00Z"))
                            .end(Instant.parse("2026-12-05T00:00:00Z")).build()).getMessage()
                    .contains("is before start"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> cron("@daily").limit(-1).build())
                    .getMessage().contains("limit"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> cron("@daily").jitter(Duration.ofSeconds(-1)).build()).getMessage().contains("jitter"));
        }

        @Test
        void anOccurrenceCarriesTheScheduleAndItsInstantInItsId() {
            Schedule s = Schedule.cron("report.daily", "0 7 * * 1-5").zone(BERLIN).eventType("SLA_REPORT")
                    .executionId("sla").tenant("acme").payload(java.util.Map.of("kind", "sla")).build();
            long at = FireTimes.of(s).nextAfter(ms("2026-12-06T00:00:00Z"));
            assertEquals(ms("2026-12-07T06:00:00Z"), at, "Monday 07:00 in Berlin");
            WorkflowEvent e = s.occurrence(at, at + 250);
            assertEquals("report.daily:" + at, e.eventId());
            assertEquals("SLA_REPORT", e.eventType());
            assertEquals("sla", e.executionId());
            assertEquals("acme", e.tenant());
            assertEquals("sla", e.payload().get("kind"));
            assertEquals(Instant.ofEpochMilli(at), e.timestamp());
            assertEquals("report.daily", e.headers().get(Schedule.SCHEDULE_ID_HEADER));
            assertEquals(Instant.ofEpochMilli(at + 250).toString(), e.headers().get(DelayedEvents.DUE_AT_HEADER));
        }
    }
}

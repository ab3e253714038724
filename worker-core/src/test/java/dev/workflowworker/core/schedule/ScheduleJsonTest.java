package dev.workflowworker.core.schedule;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScheduleJsonTest {

    @Test
    void everySettingSurvivesTheRoundTrip() {
        Schedule full = Schedule.cron("report.daily", "0 7 * * 1-5").zone("Europe/Berlin").eventType("SLA_REPORT")
                .eventName("report").executionId("sla").tenant("acme")
                .payload(Map.of("kind", "sla", "recipients", List.of("a@example.com"), "n", 3))
                .start(Instant.parse("2027-01-01T00:00:00Z")).end(Instant.parse("2028-01-01T00:00:00Z"))
                .limit(250).jitter(Duration.ofSeconds(30)).misfire(Schedule.Misfire.FIRE_ALL)
                .misfireThreshold(Duration.ofSeconds(10)).catchUpWindow(Duration.ofMinutes(90))
                .overlap(Schedule.Overlap.BUFFER_ONE).gap(Schedule.Gap.SKIP).paused(true).managedBy("spring:orders").build();
        assertEquals(full, ScheduleJson.read(ScheduleJson.write(full)));
        Schedule minimal = Schedule.every("tick", Duration.ofMinutes(5)).eventType("TICK").build();
        Schedule back = ScheduleJson.read(ScheduleJson.write(minimal));
        assertEquals(minimal, back);
        assertEquals(Duration.ofMinutes(5), back.interval());
        assertEquals(null, back.managedBy());
        assertTrue(!ScheduleJson.write(minimal).contains("managedBy"), "absent unless set: older readers see no change");
    }

    @Test
    void theManagerMarkIsPartOfTheDefinitionButNotOfTheOccurrence() {
        Schedule plain = Schedule.every("tick", Duration.ofMinutes(5)).eventType("TICK").build();
        Schedule marked = plain.toBuilder().managedBy("spring:orders").build();
        assertTrue(!plain.equals(marked), "a changed mark is a changed definition");
        assertEquals("spring:orders", marked.toBuilder().paused(true).build().managedBy(), "kept through a pause");
        assertEquals(plain.occurrence(1000, 1000).headers(), marked.occurrence(1000, 1000).headers());
        assertEquals(null, plain.toBuilder().managedBy(" ").build().managedBy());
        assertThrows(IllegalArgumentException.class,
                () -> plain.toBuilder().managedBy("x".repeat(201)).build());
    }

    @Test
    void aBadScheduleIsRefusedNamingTheField() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ScheduleJson.read("[1]")).getMessage()
                .contains("JSON object"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ScheduleJson.read("{\"id\":\"s\",\"every\":\"soon\",\"eventType\":\"T\"}")).getMessage()
                .contains("'every'"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ScheduleJson.read("{\"id\":\"s\",\"cron\":\"@daily\",\"eventType\":\"T\",\"misfire\":\"NEVER\"}"))
                .getMessage().contains("'misfire'"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ScheduleJson.read("{\"id\":\"s\",\"cron\":\"99 * * * *\",\"eventType\":\"T\"}")).getMessage()
                .contains("cron '99 * * * *'"));
    }
}

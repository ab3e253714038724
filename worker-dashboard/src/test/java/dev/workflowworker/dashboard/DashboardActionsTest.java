package dev.workflowworker.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.redis.RedisDeadLetters;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who may act, over plain HTTP: the checks a browser cannot be made to skip. */
@ExtendWith(RedisServerExtension.class)
class DashboardActionsTest {

    @Test
    void aPartitionedStreamShowsItsTotalsAndOneRowPerPartitionWithItsOwner(RedisServer redis) throws Exception {
        try (Fixture f = new Fixture(redis, false, 4)) {
            Await.until(Duration.ofSeconds(10),
                    () -> f.service.health().partitions() != null && f.service.health().partitions().owned().size() == 4,
                    "the service to own every partition");
            JsonNode streams = f.overview().get("streams");
            assertEquals(5, streams.size(), "the totals and 4 partitions: " + streams);
            assertTrue(streams.get(0).get("partition").isNull());
            for (int i = 1; i <= 4; i++) {
                JsonNode row = streams.get(i);
                assertEquals(i - 1, row.get("partition").asInt());
                assertTrue(row.get("owner").asText().startsWith("workflow-worker-"), row.toString());
            }
        }
    }

    @Test
    void readOnlyDashboardRefusesEveryActionEvenWithToken(RedisServer redis) throws Exception {
        try (Fixture f = new Fixture(redis, false)) {
            HttpResponse<String> r = f.post("api/service/pause", headers(f, Fixture.TOKEN), "{}");
            assertEquals(403, r.statusCode(), r.body());
            assertTrue(r.body().contains("actions are disabled"), r.body());
            assertFalse(f.service.isPaused());
            assertTrue(f.get("").body().contains("content=\"false\""), "the page knows it is read-only");
        }
    }

    @Test
    void actionNeedsCsrfTokenSameOriginAndOperatorToken(RedisServer redis) throws Exception {
        try (Fixture f = new Fixture(redis, true)) {
            Map<String, String> noCsrf = new HashMap<>(headers(f, Fixture.TOKEN));
            noCsrf.remove(Dashboard.CSRF_HEADER);
            assertEquals(403, f.post("api/service/pause", noCsrf, "{}").statusCode());

            Map<String, String> crossSite = new HashMap<>(headers(f, Fixture.TOKEN));
            crossSite.put("Sec-Fetch-Site", "cross-site");
            assertEquals(403, f.post("api/service/pause", crossSite, "{}").statusCode());

            Map<String, String> otherOrigin = new HashMap<>(headers(f, Fixture.TOKEN));
            otherOrigin.put("Origin", "http://evil.example");
            assertEquals(403, f.post("api/service/pause", otherOrigin, "{}").statusCode());

            Map<String, String> noToken = new HashMap<>(headers(f, Fixture.TOKEN));
            noToken.remove(Dashboard.TOKEN_HEADER);
            HttpResponse<String> refused = f.post("api/service/pause", noToken, "{}");
            assertEquals(401, refused.statusCode(), refused.body());
            assertEquals(401, f.post("api/service/pause", headers(f, Fixture.TOKEN + "x"), "{}").statusCode());
            assertFalse(f.service.isPaused(), "nothing changed by a refused action");

            HttpResponse<String> ok = f.post("api/service/pause", headers(f, Fixture.TOKEN), "{}");
            assertEquals(200, ok.statusCode(), ok.body());
            assertTrue(f.service.isPaused());
            assertEquals(200, f.post("api/service/resume", headers(f, Fixture.TOKEN), "").statusCode());
            assertFalse(f.service.isPaused());
        }
    }

    @ParameterizedTest(name = "{0} partitions")
    @ValueSource(ints = {0, 4})
    void replayAllRunsInTheBackgroundAndPurgeEmptiesTheDeadLetters(int partitions, RedisServer redis) throws Exception {
        try (Fixture f = new Fixture(redis, true, partitions)) {
            for (int i = 0; i < 3; i++) {
                f.publish("ORDER_SHIP", "globex", Map.of("order", "O-" + i));
            }
            Await.until(Duration.ofSeconds(20), () -> f.admin.deadLetterCount() == 3, "3 dead letters");
            Map<String, String> deadLetters = f.orderDeadLetters();
            f.fixOrders.set(true);
            HttpResponse<String> started = f.post("api/dead-letters/replay-all", headers(f, Fixture.TOKEN), "");
            assertEquals(202, started.statusCode(), started.body());
            f.assertReplayedWhereTheyFailed(deadLetters);
            assertEquals(3, f.count("ORDER_SHIP", EventOutcome.Kind.SUCCEEDED));
            assertEquals(0, f.admin.deadLetterCount());

            f.publish("NOISE", "acme", Map.of("n", 1));
            f.publish("NOISE", "acme", Map.of("n", 2));
            Await.until(Duration.ofSeconds(20), () -> f.admin.deadLetterCount() == 2, "2 dead letters");
            HttpResponse<String> purged = f.post("api/dead-letters/purge", headers(f, Fixture.TOKEN), "");
            assertEquals(200, purged.statusCode(), purged.body());
            assertTrue(purged.body().contains("\"purged\":2"), purged.body());
            assertEquals(0, f.admin.deadLetterCount());

            HttpResponse<String> badScale = f.post("api/service/scale", headers(f, Fixture.TOKEN), "{\"workers\":0}");
            assertEquals(400, badScale.statusCode());
            assertEquals(200, f.post("api/service/scale", headers(f, Fixture.TOKEN), "{\"workers\":3}").statusCode());
            Await.until(Duration.ofSeconds(20), () -> f.service.health().workerCount() == 3, "3 workers");
        }
    }

    @Test
    void getNeverActsAndUnknownPathsAreNotFound(RedisServer redis) throws Exception {
        try (Fixture f = new Fixture(redis, true)) {
            assertEquals(404, f.get("api/service/pause").statusCode());
            assertFalse(f.service.isPaused());
            assertEquals(404, f.get("api/nothing").statusCode());
            assertEquals(400, f.get("api/dead-letters?limit=1000").statusCode());
            HttpResponse<String> page = f.get("");
            assertEquals(200, page.statusCode());
            assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
        }
    }

    @ParameterizedTest(name = "{0} partitions")
    @ValueSource(ints = {0, 4})
    void deadLettersArePagedOpenedByEitherPathFormAndReplayedWhereTheyFailed(int partitions, RedisServer redis)
            throws Exception {
        try (Fixture f = new Fixture(redis, true, partitions)) {
            for (int i = 0; i < 6; i++) {
                f.publish("ORDER_SHIP", "globex", Map.of("order", "O-" + i));
            }
            Await.until(Fixture.WAIT, () -> f.admin.deadLetterCount() == 6, "6 dead letters");
            List<String> oldestFirst = f.admin.deadLetters(null, 10).stream().map(RedisDeadLetters.Entry::id).toList();
            assertEquals(partitions > 0, oldestFirst.stream().allMatch(id -> id.contains("/")), oldestFirst.toString());

            // The page walks newest first from the cursor each page hands back.
            List<String> paged = new ArrayList<>();
            String cursor = "";
            while (cursor != null) {
                HttpResponse<String> r = f.get("api/dead-letters?limit=4&cursor=" + encode(cursor));
                assertEquals(200, r.statusCode(), "cursor " + cursor + ": " + r.body());
                JsonNode page = json(r);
                page.get("items").forEach(item -> paged.add(item.get("id").asText()));
                cursor = page.get("cursor").isNull() ? null : page.get("cursor").asText();
            }
            List<String> newestFirst = new ArrayList<>(oldestFirst);
            Collections.reverse(newestFirst);
            assertEquals(newestFirst, paged);

            String id = oldestFirst.get(0);
            for (String path : List.of(id, encode(id))) {
                HttpResponse<String> shown = f.get("api/dead-letters/" + path);
                assertEquals(200, shown.statusCode(), path + ": " + shown.body());
                assertEquals(id, json(shown).get("id").asText(), path);
            }

            f.fixOrders.set(true);
            Map<String, String> deadLetters = f.orderDeadLetters();
            deadLetters.values().retainAll(oldestFirst.subList(0, 3));
            HttpResponse<String> replayed = f.post("api/dead-letters/replay", headers(f, Fixture.TOKEN),
                    "{\"ids\":" + new ObjectMapper().writeValueAsString(deadLetters.values()) + "}");
            assertEquals(200, replayed.statusCode(), replayed.body());
            assertEquals(3, json(replayed).get("replayed").size(), replayed.body());
            f.assertReplayedWhereTheyFailed(deadLetters);
            assertEquals(3, f.admin.deadLetterCount());
        }
    }

    @ParameterizedTest(name = "{0} partitions")
    @ValueSource(ints = {0, 4})
    void malformedDeadLetterIdsAreRefusedAndUnknownOnesAreNotFound(int partitions, RedisServer redis)
            throws Exception {
        try (Fixture f = new Fixture(redis, true, partitions)) {
            f.publish("ORDER_SHIP", "globex", Map.of("order", "O-1"));
            Await.until(Fixture.WAIT, () -> f.admin.deadLetterCount() == 1, "a dead letter");
            String real = f.admin.deadLetters(null, 1).get(0).id();
            List<String> malformed = partitions == 0
                    ? List.of("abc", "3/1-0", "1-", "99999999999999999999-0")
                    : List.of("abc", "9/abc", "99/1-0", "1-0", "3/1");
            for (String bad : malformed) {
                for (String path : List.of(bad, encode(bad))) {
                    HttpResponse<String> shown = f.get("api/dead-letters/" + path);
                    assertEquals(400, shown.statusCode(), path + ": " + shown.body());
                    assertTrue(shown.body().contains("'" + bad + "'"), "names the id: " + shown.body());
                }
                HttpResponse<String> paged = f.get("api/dead-letters?cursor=" + encode(bad));
                assertEquals(400, paged.statusCode(), bad + ": " + paged.body());
                // One bad id refuses the whole selection: the good one is still a dead letter.
                HttpResponse<String> replayed = f.post("api/dead-letters/replay", headers(f, Fixture.TOKEN),
                        "{\"ids\":[\"" + real + "\",\"" + bad + "\"]}");
                assertEquals(400, replayed.statusCode(), bad + ": " + replayed.body());
                assertTrue(f.admin.deadLetter(real).isPresent(), real);
            }
            if (partitions > 0) {
                assertTrue(f.get("api/dead-letters/99/1-0").body().contains("partitions 0 to 3"),
                        "the admin's message, with the partitions there are");
            }

            String unknown = partitions == 0 ? "1-0" : "3/1-0";
            for (String path : List.of(unknown, encode(unknown))) {
                assertEquals(404, f.get("api/dead-letters/" + path).statusCode(), path);
            }
            HttpResponse<String> missing = f.post("api/dead-letters/replay", headers(f, Fixture.TOKEN),
                    "{\"ids\":[\"" + unknown + "\"]}");
            assertEquals(200, missing.statusCode(), missing.body());
            assertEquals(unknown, json(missing).get("missing").get(0).asText(), missing.body());
        }
    }

    @Test
    void actionsWithoutTokenOrHostAuthenticationDoNotBuild(RedisServer redis) throws Exception {
        try (Fixture f = new Fixture(redis, false)) {
            assertThrows(IllegalStateException.class, () -> Dashboard.builder().service(f.service)
                    .actionsEnabled(true).build());
            assertThrows(IllegalArgumentException.class, () -> Dashboard.builder().token("short"));
            assertThrows(IllegalArgumentException.class, () -> Dashboard.builder()
                    .fromEnvironment(Map.of("DASHBOARD_ACTIONS", "yes")));
        }
    }

    @Test
    void schedulesAndDelayedEventsAreReadAndActedOnWithTheTokenOnly(RedisServer redis) throws Exception {
        try (Fixture f = new Fixture(redis, true, 4)) {
            Schedules schedules = f.service.schedules().orElseThrow();
            schedules.put(Schedule.every("nightly", Duration.ofHours(1)).eventType("TICKET_CREATED")
                    // Starting in an hour: it cannot fire while the test looks.
                    .start(java.time.Instant.now().plus(Duration.ofHours(1))).build());
            schedules.put(Schedule.cron("report", "0 7 * * 1-5").zone("Europe/Berlin").eventType("TICKET_CREATED")
                    .overlap(Schedule.Overlap.SKIP).paused(true).build());
            f.service.delayed().orElseThrow().publishAfter(WorkflowEvent.builder("TICKET_CREATED").eventId("later")
                    .build(), Duration.ofHours(1));

            JsonNode overview = f.overview();
            assertTrue(overview.get("schedules").asBoolean(), overview.toString());
            assertEquals(1, overview.get("delayedWaiting").asLong(), overview.toString());
            JsonNode list = json(f.get("api/schedules"));
            assertEquals(2, list.get("total").asInt(), list.toString());
            assertEquals(1, list.get("delayedWaiting").asLong(), list.toString());
            Map<String, JsonNode> rows = new HashMap<>();
            list.get("items").forEach(item -> rows.put(item.get("id").asText(), item));
            JsonNode report = rows.get("report");
            assertEquals("cron 0 7 * * 1-5", report.get("timing").asText());
            assertEquals("Europe/Berlin", report.get("zone").asText());
            assertTrue(report.get("paused").asBoolean());
            assertEquals("SKIP", report.get("overlap").asText());
            assertEquals(schedules.get("report").orElseThrow().nextFire().toString(), report.get("nextFire").asText());
            assertTrue(report.get("lastFire").isNull(), report.toString());
            JsonNode nightly = rows.get("nightly");
            assertEquals("every PT1H", nightly.get("timing").asText());
            assertTrue(nightly.get("zone").isNull(), "an interval ignores the zone: " + nightly);
            assertFalse(nightly.get("paused").asBoolean());
            assertEquals(0, nightly.get("fired").asLong());

            Map<String, String> noToken = new HashMap<>(headers(f, Fixture.TOKEN));
            noToken.remove(Dashboard.TOKEN_HEADER);
            HttpResponse<String> refused = f.post("api/schedules/pause", noToken, "{\"id\":\"nightly\"}");
            assertEquals(401, refused.statusCode(), refused.body());
            Map<String, String> noCsrf = new HashMap<>(headers(f, Fixture.TOKEN));
            noCsrf.remove(Dashboard.CSRF_HEADER);
            assertEquals(403, f.post("api/schedules/delete", noCsrf, "{\"id\":\"nightly\"}").statusCode());
            assertFalse(schedules.get("nightly").orElseThrow().schedule().paused(), "a refused pause paused it");

            HttpResponse<String> paused = f.post("api/schedules/pause", headers(f, Fixture.TOKEN), "{\"id\":\"nightly\"}");
            assertEquals(200, paused.statusCode(), paused.body());
            assertTrue(schedules.get("nightly").orElseThrow().schedule().paused());
            assertEquals(200, f.post("api/schedules/resume", headers(f, Fixture.TOKEN), "{\"id\":\"report\"}")
                    .statusCode());
            assertFalse(schedules.get("report").orElseThrow().schedule().paused());

            HttpResponse<String> triggered = f.post("api/schedules/trigger", headers(f, Fixture.TOKEN),
                    "{\"id\":\"report\"}");
            assertEquals(200, triggered.statusCode(), triggered.body());
            String eventId = json(triggered).get("eventId").asText();
            assertTrue(eventId.startsWith("report:trigger:"), eventId);
            Await.until(Fixture.WAIT, () -> f.outcomes.stream().anyMatch(o -> o.kind() == EventOutcome.Kind.SUCCEEDED
                    && o.event() != null && o.event().eventId().equals(eventId)), "the triggered occurrence to run");

            assertEquals(200, f.post("api/schedules/delete", headers(f, Fixture.TOKEN), "{\"id\":\"report\"}")
                    .statusCode());
            assertTrue(schedules.get("report").isEmpty());
            HttpResponse<String> gone = f.post("api/schedules/delete", headers(f, Fixture.TOKEN), "{\"id\":\"report\"}");
            assertEquals(404, gone.statusCode(), gone.body());
            assertTrue(gone.body().contains("no schedule report"), gone.body());
            assertEquals(400, f.post("api/schedules/pause", headers(f, Fixture.TOKEN), "{}").statusCode());
            assertEquals(404, f.post("api/schedules/frobnicate", headers(f, Fixture.TOKEN), "{\"id\":\"nightly\"}")
                    .statusCode());
            assertEquals(1, json(f.get("api/schedules")).get("total").asInt());
        }
    }

    @Test
    void aReadOnlyDashboardShowsSchedulesButRefusesTheirActions(RedisServer redis) throws Exception {
        try (Fixture f = new Fixture(redis, false, 4)) {
            Schedules schedules = f.service.schedules().orElseThrow();
            schedules.put(Schedule.every("nightly", Duration.ofHours(1)).eventType("TICKET_CREATED")
                    // Starting in an hour: it cannot fire while the test looks.
                    .start(java.time.Instant.now().plus(Duration.ofHours(1))).build());
            assertEquals("nightly", json(f.get("api/schedules")).get("items").get(0).get("id").asText());
            HttpResponse<String> r = f.post("api/schedules/delete", headers(f, Fixture.TOKEN), "{\"id\":\"nightly\"}");
            assertEquals(403, r.statusCode(), r.body());
            assertTrue(schedules.get("nightly").isPresent());
        }
    }

    @Test
    void aSharedStreamHasTheSchedulesPanelAndTheDelayedCount(RedisServer redis) throws Exception {
        try (Fixture f = new Fixture(redis, true, 0)) {
            JsonNode overview = f.overview();
            assertTrue(overview.get("schedules").asBoolean(), overview.toString());
            assertEquals(0, overview.get("delayedWaiting").asLong(), overview.toString());
            Schedules schedules = f.service.schedules().orElseThrow();
            schedules.put(Schedule.every("nightly", Duration.ofHours(1)).eventType("TICKET_CREATED")
                    .start(java.time.Instant.now().plus(Duration.ofHours(1))).build());
            HttpResponse<String> list = f.get("api/schedules");
            assertEquals(200, list.statusCode(), list.body());
            assertEquals("nightly", json(list).get("items").get(0).get("id").asText());
            HttpResponse<String> paused = f.post("api/schedules/pause", headers(f, Fixture.TOKEN), "{\"id\":\"nightly\"}");
            assertEquals(200, paused.statusCode(), paused.body());
            assertTrue(schedules.get("nightly").orElseThrow().schedule().paused());
        }
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return new ObjectMapper().readTree(r.body());
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static Map<String, String> headers(Fixture f, String token) throws Exception {
        Matcher m = Pattern.compile("name=\"csrf-token\" content=\"([^\"]+)\"").matcher(f.get("").body());
        assertTrue(m.find(), "the page carries a CSRF token");
        Map<String, String> h = new HashMap<>();
        h.put("Content-Type", "application/json");
        h.put(Dashboard.CSRF_HEADER, m.group(1));
        h.put(Dashboard.TOKEN_HEADER, token);
        h.put("Origin", f.url.substring(0, f.url.indexOf("/dashboard")));
        h.put("Sec-Fetch-Site", "same-origin");
        return h;
    }
}

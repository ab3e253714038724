package dev.workflowworker.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.WorkflowAdmin;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XReadGroupParams;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page's data endpoints on streams many pages long: 10,000 dead letters and 20,000 stream
 * entries, 5,000 of them pending. Each request reads a bounded number of entries and the figures
 * are right. How fast they answer on a million entries is the benchmarks' {@code dashboard} rows
 * (docs/BENCHMARKS.md), not a test's: a timing budget fails on a busy machine, not on slow code.
 */
@ExtendWith(RedisServerExtension.class)
class DashboardLargeStreamsTest {

    private static final int ENTRIES = 20_000;
    private static final int PENDING = 5_000;
    private static final int DEAD = 10_000;
    /** Every 2,000th dead letter has a type of its own: five in all, far apart. */
    private static final int RARE_EVERY = 2_000;
    private static final int BUDGET = Dashboard.DEFAULT_SEARCH_BUDGET;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyEndpointReadsABoundedAmountAndCountsRight(RedisServer redis) throws Exception {
        // The shared stream's layout: one group, its pending list and dead-letter stream, seeded directly.
        RedisOptions options = redis.options().partitions(0).build();
        seed(redis, options);
        // The service runs on the in-memory transport: the streams are read by the admin alone.
        try (WorkerService service = WorkerService.builder()
                .runtime(ActionRuntime.builder().on("NONE", ctx -> { }).build()).build().start();
             WorkflowAdmin admin = WorkflowAdmin.create(options);
             Dashboard dashboard = Dashboard.builder().service(service).admin(admin).build()) {
            JsonNode totals = get(dashboard, "/api/overview").get("streams").get(0);
            assertEquals(ENTRIES, totals.get("length").asLong(), totals.toString());
            assertEquals(PENDING, totals.get("pending").asLong(), totals.toString());
            assertEquals(DEAD, totals.get("deadLetters").asLong(), totals.toString());
            assertTrue(totals.get("oldestPendingMs").isNumber(), totals.toString());
            assertTrue(get(dashboard, "/api/throughput").get("points").isArray());

            List<String> newest = admin.deadLettersNewestFirst(null, 25).stream().map(e -> e.id()).toList();
            JsonNode first = get(dashboard, "/api/dead-letters?limit=25");
            assertEquals(newest, ids(first));
            assertEquals(25, first.get("scanned").asInt(), "an unfiltered page reads the page and no more");
            assertEquals(DEAD, first.get("total").asLong());
            assertEquals(newest.get(24), first.get("cursor").asText());

            List<String> oldest = new ArrayList<>(admin.deadLetters(null, 6).stream().map(e -> e.id()).toList());
            JsonNode last = get(dashboard, "/api/dead-letters?limit=25&cursor=" + oldest.remove(5));
            Collections.reverse(oldest);
            assertEquals(oldest, ids(last), "the five oldest, newest first");
            assertTrue(last.get("cursor").isNull(), "the end of the stream: " + last.get("cursor"));

            // Tenant 7 is every 50th dead letter: the budget's 500 entries hold 10, less than a page.
            JsonNode tenant = get(dashboard, "/api/dead-letters?tenant=tenant-7&limit=25");
            assertEquals(BUDGET, tenant.get("scanned").asInt(), "a filtered request stops at its budget");
            assertEquals(BUDGET / 50, tenant.get("items").size());
            tenant.get("items").forEach(item -> assertEquals("tenant-7", item.get("tenant").asText(), item.toString()));
            assertFalse(tenant.get("cursor").isNull(), "more to search");

            JsonNode one = get(dashboard, "/api/dead-letters/" + URLEncoder.encode(newest.get(0), StandardCharsets.UTF_8));
            assertEquals(DEAD, one.get("original").get("payload_json").get("amount").asInt(), one.toString());
            assertTrue(one.get("stack").asText().contains("Handler.java:42"), one.toString());
            assertFalse(one.get("fields").has("original_message"), "shown as the original, not again as a field");

            assertRareTypeWalk(dashboard);
        }
    }

    /** A rare type through every dead letter: one request per budget's worth, five found in all. */
    private static void assertRareTypeWalk(Dashboard dashboard) {
        List<String> found = new ArrayList<>();
        int requests = 0;
        String cursor = "";
        while (cursor != null) {
            JsonNode page = get(dashboard, "/api/dead-letters?type=RARE_TYPE&limit=25&cursor=" + cursor);
            requests++;
            assertTrue(page.get("scanned").asInt() <= BUDGET, page.toString());
            page.get("items").forEach(item -> found.add(item.get("eventId").asText()));
            cursor = page.get("cursor").isNull() ? null : page.get("cursor").asText();
        }
        assertEquals(List.of("d10000", "d8000", "d6000", "d4000", "d2000"), found);
        assertEquals(DEAD / BUDGET + 1, requests, "each request reads its budget; one more finds the end");
    }

    private static void seed(RedisServer redis, RedisOptions options) {
        try (RedisClient c = redis.client(); AbstractPipeline p = c.pipelined()) {
            for (int i = 1; i <= ENTRIES; i++) {
                p.xadd(options.stream(), StreamEntryID.NEW_ENTRY, Map.of("event_id", "e" + i, "execution_id", "x" + i,
                        "event_type", "TICKET_CREATED", "tenant", "acme", "payload_json", "{\"ticket_id\":\"T-" + i + "\"}"));
            }
            p.xgroupCreate(options.stream(), options.group(), new StreamEntryID(0, 0), false);
            // Delivered and never acknowledged: pending and oldest-pending are non-trivial.
            p.xreadGroup(options.group(), "c1", XReadGroupParams.xReadGroupParams().count(PENDING),
                    Map.of(options.stream(), StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
            for (int n = 1; n <= DEAD; n++) {
                p.xadd(options.deadLetterStream(), StreamEntryID.NEW_ENTRY, deadLetter(n));
            }
            p.sync();
        }
    }

    private static Map<String, String> deadLetter(int n) {
        String original = "{\"event_id\":\"d" + n + "\",\"execution_id\":\"x" + n + "\",\"event_type\":\""
                + (n % RARE_EVERY == 0 ? "RARE_TYPE" : "INVOICE_DUE") + "\",\"tenant\":\"tenant-" + (n % 50)
                + "\",\"payload_json\":\"{\\\"amount\\\":" + n + "}\"}";
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("original_message", original);
        fields.put("error_message", "payment gateway said no for invoice " + n);
        fields.put("error_stack", "\tat com.example.Handler.handle(Handler.java:42)\n".repeat(20));
        fields.put("source_stream", "workflow:events:global");
        fields.put("original_id", "1-" + n);
        fields.put("moved_at", "1735689600000");
        fields.put("error_category", "permanent");
        fields.put("attempts", "3");
        fields.put("worker_id", "w1");
        return fields;
    }

    private static List<String> ids(JsonNode page) {
        List<String> ids = new ArrayList<>();
        page.get("items").forEach(item -> ids.add(item.get("id").asText()));
        return ids;
    }

    private static JsonNode get(Dashboard dashboard, String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        Map<String, String> query = DashboardHttpHandler.query(q < 0 ? null : pathAndQuery.substring(q + 1));
        DashboardResponse r = dashboard.handle(new DashboardRequest("GET", path, "/dashboard" + path, query, Map.of(),
                "", "127.0.0.1", null));
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(200, r.status(), () -> pathAndQuery + ": " + body);
        try {
            return JSON.readTree(body);
        } catch (java.io.IOException e) {
            throw new AssertionError(pathAndQuery + " answered no JSON: " + body, e);
        }
    }
}

package dev.workflowworker.dashboard;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.WorkflowAdmin;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page's data endpoints with 100,000 dead letters and 1,000,000 stream entries (200,000 of
 * them pending): each request does bounded work, so each answers in well under 50 ms. The
 * figures (median, p95, max over 40 calls each) are printed and written to
 * {@code target/dashboard-performance.txt}.
 */
@ExtendWith(RedisServerExtension.class)
class DashboardPerformanceTest {

    private static final String SEED_STREAM = """
            for i = 1, tonumber(ARGV[1]) do
              redis.call('XADD', KEYS[1], '*', 'event_id', 'e' .. i, 'execution_id', 'x' .. i, 'event_name', 'n',
                'event_type', 'TICKET_CREATED', 'tenant', 'acme', 'timestamp', '2025-01-01T00:00:00.000Z',
                'from_state', '', 'to_state', '', 'user_id', '', 'payload_json', '{"ticket_id":"T-' .. i .. '"}',
                'headers_json', '')
            end
            return 1
            """;
    private static final String SEED_DEAD = """
            local stack = string.rep('\\tat com.example.Handler.handle(Handler.java:42)\\n', 20)
            for i = 1, tonumber(ARGV[1]) do
              local n = tonumber(ARGV[2]) + i
              local rare = (n % 20000 == 7)
              local t = rare and 'RARE_TYPE' or 'INVOICE_DUE'
              local msg = '{"event_id":"d' .. n .. '","execution_id":"x' .. n .. '","event_type":"' .. t
                .. '","tenant":"tenant-' .. (n % 50) .. '","payload_json":"{\\\\"amount\\\\":' .. n .. '}"}'
              redis.call('XADD', KEYS[1], '*', 'original_message', msg,
                'error_message', 'payment gateway said no for invoice ' .. n, 'error_stack', stack,
                'source_stream', 'workflow:events:global', 'original_id', '1-' .. n, 'moved_at', '1735689600000',
                'error_category', 'permanent', 'attempts', '3', 'worker_id', 'w1')
            end
            return 1
            """;

    @Test
    void dataEndpointsAnswerWithinBudgetOnLargeStreams(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().build();
        try (RedisClient c = redis.client()) {
            for (int i = 0; i < 100; i++) {
                c.eval(SEED_STREAM, List.of(options.stream()), List.of("10000"));
            }
            for (int i = 0; i < 20; i++) {
                c.eval(SEED_DEAD, List.of(options.deadLetterStream()), List.of("5000", String.valueOf(i * 5000)));
            }
            c.xgroupCreate(options.stream(), options.group(), null, false);
            // 200,000 delivered and never acknowledged: pending and oldest-pending are non-trivial.
            c.eval("for i = 1, 20 do redis.call('XREADGROUP', 'GROUP', ARGV[1], 'c1', 'COUNT', 10000, 'STREAMS', KEYS[1], '>') end return 1",
                    List.of(options.stream()), List.of(options.group()));
            assertEquals(1_000_000, c.xlen(options.stream()));
            assertEquals(100_000, c.xlen(options.deadLetterStream()));
        }
        // The service runs on the in-memory transport: only the admin's Redis reads are measured here.
        try (WorkerService service = WorkerService.builder().runtime(ActionRuntime.builder().on("NONE", ctx -> { }).build()).build().start();
             WorkflowAdmin admin = WorkflowAdmin.create(options);
             Dashboard dashboard = Dashboard.builder().service(service).admin(admin).build()) {
            String deepCursor = admin.deadLetters(null, 10).get(5).id();
            Map<String, String> endpoints = new LinkedHashMap<>();
            endpoints.put("overview", "/api/overview");
            endpoints.put("throughput", "/api/throughput");
            endpoints.put("dead letters, newest page", "/api/dead-letters?limit=25");
            endpoints.put("dead letters, oldest page (cursor)", "/api/dead-letters?limit=25&cursor=" + deepCursor);
            endpoints.put("search by tenant (common)", "/api/dead-letters?tenant=tenant-7&limit=25");
            endpoints.put("search by error text, 1 request (budget 500)", "/api/dead-letters?q=invoice+4242&limit=25");
            endpoints.put("search by rare type, 1 request (budget 500)", "/api/dead-letters?type=RARE_TYPE&limit=25");
            String anId = admin.deadLettersNewestFirst(null, 1).get(0).id();
            endpoints.put("one dead letter", "/api/dead-letters/" + anId);

            StringBuilder report = new StringBuilder("endpoint | median ms | p95 ms | max ms\n");
            List<String> slow = new ArrayList<>();
            for (Map.Entry<String, String> e : endpoints.entrySet()) {
                for (int i = 0; i < 5; i++) {
                    call(dashboard, e.getValue()); // warm-up
                }
                long[] ns = new long[40];
                for (int i = 0; i < ns.length; i++) {
                    long t0 = System.nanoTime();
                    DashboardResponse r = call(dashboard, e.getValue());
                    ns[i] = System.nanoTime() - t0;
                    assertEquals(200, r.status(), () -> e.getKey() + ": " + new String(r.body(), StandardCharsets.UTF_8));
                }
                Arrays.sort(ns);
                double median = ns[ns.length / 2] / 1e6;
                double p95 = ns[(int) (ns.length * 0.95)] / 1e6;
                report.append(String.format("%s | %.1f | %.1f | %.1f%n", e.getKey(), median, p95, ns[ns.length - 1] / 1e6));
                if (median >= 50) {
                    slow.add(e.getKey() + " " + median + " ms");
                }
            }
            // Walking a rare type through all 100,000: many bounded requests, each reported above.
            int requests = 0;
            int found = 0;
            String cursor = null;
            long t0 = System.nanoTime();
            do {
                String body = new String(call(dashboard, "/api/dead-letters?type=RARE_TYPE&limit=25"
                        + (cursor == null ? "" : "&cursor=" + cursor)).body(), StandardCharsets.UTF_8);
                requests++;
                Matcher ids = Pattern.compile("\"id\":\"").matcher(body);
                while (ids.find()) {
                    found++;
                }
                Matcher m = Pattern.compile("\"cursor\":\"([0-9-]+)\"").matcher(body);
                cursor = m.find() ? m.group(1) : null;
            } while (cursor != null);
            report.append(String.format("full walk for a rare type: %d requests, %d found, %.0f ms in all%n",
                    requests, found, (System.nanoTime() - t0) / 1e6));
            System.out.print(report);
            Files.writeString(Path.of("target", "dashboard-performance.txt"), report.toString());
            assertEquals(5, found, "the five RARE_TYPE dead letters, one per 20,000");
            assertTrue(slow.isEmpty(), () -> "over 50 ms: " + slow + "\n" + report);
        }
    }

    private static DashboardResponse call(Dashboard d, String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        Map<String, String> query = DashboardHttpHandler.query(q < 0 ? null : pathAndQuery.substring(q + 1));
        return d.handle(new DashboardRequest("GET", path, "/dashboard" + path, query, Map.of(), "", "127.0.0.1", null));
    }
}

package dev.workflowworker.benchmarks;

import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.dashboard.Dashboard;
import dev.workflowworker.dashboard.DashboardRequest;
import dev.workflowworker.dashboard.DashboardResponse;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.WorkflowAdmin;
import org.HdrHistogram.Histogram;
import redis.clients.jedis.Jedis;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The dashboard's data endpoints on large streams: 1,000,000 stream entries (200,000 of them
 * delivered and never acknowledged) and 100,000 dead letters. Each request does bounded work
 * (see docs/ARCHITECTURE.md, "Dashboard"), so each answers in well under 50 ms whatever the
 * streams' size: one row per endpoint with its median over {@value #CALLS} calls (p95 and max in
 * the note), and the walk of a rare type through every dead letter. Requests go to
 * {@link Dashboard#handle} in process, so the figures are the dashboard's and Redis's work
 * without an HTTP server's.
 */
final class DashboardScenario {

    private static final double TARGET_MS = 50;
    private static final int CALLS = 40;
    private static final int WARM_UP = 5;
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

    private DashboardScenario() {
    }

    static List<BenchmarkMain.Row> run(String url) throws Exception {
        // Seeded in the shared stream's layout (one group, its pending list and dead-letter stream).
        RedisOptions options = RedisOptions.fromUri(url).toBuilder().stream("bench:dashboard:events").partitions(0).build();
        try (Jedis j = new Jedis(URI.create(url))) {
            j.flushAll();
            seed(j, options);
        }
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        // The service runs on the in-memory transport: only the dashboard's Redis reads are measured.
        try (WorkerService service = WorkerService.builder()
                .runtime(ActionRuntime.builder().on("NONE", ctx -> { }).build()).build().start();
             WorkflowAdmin admin = WorkflowAdmin.create(options);
             Dashboard dashboard = Dashboard.builder().service(service).admin(admin).build()) {
            Map<String, String> endpoints = new LinkedHashMap<>();
            endpoints.put("overview", "/api/overview");
            endpoints.put("throughput", "/api/throughput");
            endpoints.put("dead letters, newest page", "/api/dead-letters?limit=25");
            endpoints.put("dead letters, oldest page", "/api/dead-letters?limit=25&cursor="
                    + admin.deadLetters(null, 10).get(5).id());
            endpoints.put("search tenant (common)", "/api/dead-letters?tenant=tenant-7&limit=25");
            endpoints.put("search error text, one request", "/api/dead-letters?q=invoice+4242&limit=25");
            endpoints.put("search rare type, one request", "/api/dead-letters?type=RARE_TYPE&limit=25");
            endpoints.put("one dead letter", "/api/dead-letters/"
                    + URLEncoder.encode(admin.deadLettersNewestFirst(null, 1).get(0).id(), StandardCharsets.UTF_8));
            for (Map.Entry<String, String> e : endpoints.entrySet()) {
                rows.add(measure(dashboard, e.getKey(), e.getValue()));
            }
            rows.add(rareTypeWalk(dashboard));
        } finally {
            try (Jedis j = new Jedis(URI.create(url))) {
                j.flushAll();
            }
        }
        return rows;
    }

    private static void seed(Jedis j, RedisOptions options) {
        for (int i = 0; i < 100; i++) {
            j.eval(SEED_STREAM, List.of(options.stream()), List.of("10000"));
        }
        for (int i = 0; i < 20; i++) {
            j.eval(SEED_DEAD, List.of(options.deadLetterStream()), List.of("5000", String.valueOf(i * 5000)));
        }
        j.xgroupCreate(options.stream(), options.group(), null, false);
        // 200,000 delivered and never acknowledged: pending and oldest-pending are non-trivial.
        j.eval("for i = 1, 20 do redis.call('XREADGROUP', 'GROUP', ARGV[1], 'c1', 'COUNT', 10000, 'STREAMS', "
                + "KEYS[1], '>') end return 1", List.of(options.stream()), List.of(options.group()));
    }

    private static BenchmarkMain.Row measure(Dashboard dashboard, String name, String pathAndQuery) {
        for (int i = 0; i < WARM_UP; i++) {
            call(dashboard, pathAndQuery);
        }
        Histogram h = new Histogram(3);
        for (int i = 0; i < CALLS; i++) {
            long t0 = System.nanoTime();
            call(dashboard, pathAndQuery);
            h.recordValue(System.nanoTime() - t0);
        }
        return new BenchmarkMain.Row("dashboard", name, h.getValueAtPercentile(50) / 1e6, "ms",
                String.format("median of %d calls; p95 %.1f ms, max %.1f ms; target < %.0f ms", CALLS,
                        h.getValueAtPercentile(95) / 1e6, h.getMaxValue() / 1e6, TARGET_MS));
    }

    /** A rare type through all 100,000 dead letters: many bounded requests, each one of the row above. */
    private static BenchmarkMain.Row rareTypeWalk(Dashboard dashboard) {
        Pattern cursorField = Pattern.compile("\"cursor\":\"([^\"]+)\"");
        Pattern idField = Pattern.compile("\"id\":\"");
        int requests = 0;
        int found = 0;
        String cursor = null;
        long t0 = System.nanoTime();
        do {
            String body = call(dashboard, "/api/dead-letters?type=RARE_TYPE&limit=25"
                    + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8)));
            requests++;
            Matcher ids = idField.matcher(body);
            while (ids.find()) {
                found++;
            }
            Matcher m = cursorField.matcher(body);
            cursor = m.find() ? m.group(1) : null;
        } while (cursor != null);
        double ms = (System.nanoTime() - t0) / 1e6;
        return new BenchmarkMain.Row("dashboard", "rare type, full walk", ms, "ms",
                String.format("%d requests, %.1f ms each, %d of 5 found", requests, ms / requests, found));
    }

    private static String call(Dashboard d, String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        Map<String, String> query = new LinkedHashMap<>();
        if (q >= 0) {
            for (String pair : pathAndQuery.substring(q + 1).split("&")) {
                int eq = pair.indexOf('=');
                query.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        DashboardResponse r = d.handle(new DashboardRequest("GET", path, "/dashboard" + path, query, Map.of(), "",
                "127.0.0.1", null));
        String body = new String(r.body(), StandardCharsets.UTF_8);
        if (r.status() != 200) {
            throw new IllegalStateException(pathAndQuery + " answered " + r.status() + ": " + body);
        }
        return body;
    }
}

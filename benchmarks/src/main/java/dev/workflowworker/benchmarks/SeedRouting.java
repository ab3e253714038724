package dev.workflowworker.benchmarks;

import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.SetParams;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The partitioned row's events written as a producer of the seed format writes them: a plain
 * {@code XADD} of the eleven wire fields to the single stream, which the router moves into the
 * partitions (docs/ARCHITECTURE.md, "The single stream"). While a pass's entries are written, the
 * router lease is held by a name no instance has, so the router reads none of them until the pass
 * starts and the measured window holds the whole of their routing.
 */
final class SeedRouting {

    private static final String HOLDER = "bench-seed-hold|0";

    private SeedRouting() {
    }

    private static String lease(String stream) {
        return "{" + stream + "}:router";
    }

    /** Takes the router lease from whoever holds it; its renewal then fails and it stops routing. */
    static void hold(String url, String stream) {
        try (Jedis j = new Jedis(URI.create(url))) {
            j.set(lease(stream), HOLDER, SetParams.setParams().px(600_000));
        }
    }

    /** Lets the lease go and waits until an instance took it (its next ownership round). */
    static void release(String url, String stream) throws InterruptedException {
        try (Jedis j = new Jedis(URI.create(url))) {
            j.del(lease(stream));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (j.get(lease(stream)) == null) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no instance took the router lease of " + stream + " in 30 s");
                }
                Thread.sleep(1);
            }
        }
    }

    /**
     * The latency rows' events written as a seed-format producer writes them, one plain XADD each
     * on a connection of its own (the pacer's thread alone uses it), with event ids never reused
     * (the partitions recognise a repeated event id as a duplicate).
     */
    static final class Publisher implements PacedLatency.Publish, AutoCloseable {
        private final Jedis jedis;
        private final String stream;
        private long next;

        Publisher(String url, String stream) {
            this.jedis = new Jedis(URI.create(url));
            this.stream = stream;
        }

        @Override
        public void send(dev.workflowworker.core.WorkerService s, String executionId, Map<String, String> headers) {
            StringBuilder json = new StringBuilder("{");
            headers.forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(k).append("\":\"")
                    .append(v).append('"'));
            Map<String, String> f = fields("seed-lat-" + next++, executionId, "PING");
            f.put("headers_json", json.append('}').toString());
            jedis.xadd(stream, StreamEntryID.NEW_ENTRY, f);
        }

        @Override
        public void close() {
            jedis.close();
        }
    }

    /** The eleven wire fields of a seed-format entry, '' for those a no-op event leaves empty. */
    private static Map<String, String> fields(String eventId, String executionId, String type) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("event_id", eventId);
        f.put("execution_id", executionId);
        f.put("event_name", "");
        f.put("event_type", type);
        f.put("tenant", "");
        f.put("timestamp", "2026-01-01T00:00:00Z");
        f.put("from_state", "");
        f.put("to_state", "");
        f.put("user_id", "");
        f.put("payload_json", "{}");
        f.put("headers_json", "{}");
        return f;
    }

    /** {@code n} no-op events over {@code keys} execution ids, event ids {@code idPrefix + k}, pipelined XADDs. */
    static void prepublish(String url, String stream, int n, int keys, String idPrefix) {
        try (Jedis j = new Jedis(URI.create(url))) {
            Pipeline p = j.pipelined();
            for (int k = 0; k < n; k++) {
                p.xadd(stream, StreamEntryID.NEW_ENTRY, fields(idPrefix + k, "x" + (k % keys), "NOOP"));
                if (k % 1000 == 999) {
                    p.sync();
                }
            }
            p.sync();
        }
    }
}

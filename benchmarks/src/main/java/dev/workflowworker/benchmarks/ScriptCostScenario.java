package dev.workflowworker.benchmarks;

import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.SetParams;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A profile of Redis's side of one event, without the rest of the engine: the CPU Redis spends per
 * event on what the engine sends (a pipelined claim and the complete_release.lua commit), on the
 * same work with the commit also as plain commands (no commit-time lock check, marker-then-ack
 * order instead of atomicity), and on the bare guarantee writes. Batches of 256, lock keys reused as in the
 * throughput scenario, a new marker key per event; 100 unmeasured batches first.
 */
final class ScriptCostScenario {

    private static final int N = 256;
    private static final int BATCHES = 600;
    private static final int WARM = 100;
    private static final String OWNER = "3f2a9c1e-1b2c-4d5e-8f90-123456789abc:";
    private static final String RELEASE_MATCHING = "local v = redis.call('MGET', unpack(KEYS)) local d = {} "
            + "for i = 1, #KEYS do if v[i] == ARGV[i] then d[#d + 1] = KEYS[i] end end "
            + "if #d > 0 then return redis.call('DEL', unpack(d)) end return 0";

    private ScriptCostScenario() {
    }

    static List<BenchmarkMain.Row> run(String url) throws Exception {
        String complete = resource("complete_release.lua");
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        rows.add(row("engine: pipelined claim + complete_release.lua", url, (p, b) -> {
            List<String> locks = locks(b);
            List<String> owners = owners(b);
            for (int i = 0; i < N; i++) {
                p.set(locks.get(i), owners.get(i) + "|", SetParams.setParams().nx().px(30_000));
            }
            p.incrBy("bench:fence", N);
            p.mget(markers(b).toArray(new String[0]));
            List<String> k2 = new ArrayList<>();
            List<String> a2 = new ArrayList<>(List.of("g", "86400000", "2026-11-28T00:00:00.123Z"));
            k2.add("bench:s");
            k2.addAll(locks);
            k2.addAll(markers(b));
            a2.addAll(ids());
            for (String o : owners) {
                a2.add(o + "|");
            }
            p.eval(complete, k2, a2);
        }, "what the service sends per batch (the commit checks each lock atomically)"));
        rows.add(row("same work, commit as plain commands too", url, (p, b) -> {
            List<String> locks = locks(b);
            List<String> owners = owners(b);
            for (int i = 0; i < N; i++) {
                p.set(locks.get(i), owners.get(i), SetParams.setParams().nx().px(30_000));
            }
            p.incrBy("bench:fence", N);
            p.mget(markers(b).toArray(new String[0]));
            for (String m : markers(b)) {
                p.set(m, "2026-11-28T00:00:00.123Z", SetParams.setParams().px(86_400_000));
            }
            p.xack("bench:s", "g", ids().stream().map(StreamEntryID::new).toArray(StreamEntryID[]::new));
            p.eval(RELEASE_MATCHING, locks, owners);
        }, "marker-then-ack order instead of an atomic commit; no commit-time lock check"));
        rows.add(row("bare guarantee writes", url, (p, b) -> {
            List<String> locks = locks(b);
            List<String> markers = markers(b);
            for (int i = 0; i < N; i++) {
                p.set(locks.get(i), "o", SetParams.setParams().nx().px(30_000));
                p.set(markers.get(i), "1", SetParams.setParams().px(86_400_000));
            }
            p.xack("bench:s", "g", ids().stream().map(StreamEntryID::new).toArray(StreamEntryID[]::new));
            p.del(locks.toArray(new String[0]));
        }, "lock SET NX PX + marker SET PX + DEL, no checks"));
        return rows;
    }

    private static BenchmarkMain.Row row(String metric, String url, BiConsumer<Pipeline, Integer> batch, String note)
            throws Exception {
        try (Jedis j = new Jedis(URI.create(url))) {
            j.flushAll();
            j.xgroupCreate("bench:s", "g", StreamEntryID.XGROUP_LAST_ENTRY, true);
            CpuMeter cpu = null;
            for (int b = 0; b < BATCHES; b++) {
                if (b == WARM) {
                    cpu = CpuMeter.start(url);
                }
                Pipeline p = j.pipelined();
                batch.accept(p, b);
                p.sync();
            }
            double micros = cpu.stop((long) N * (BATCHES - WARM)).redisMicrosPerEvent();
            j.flushAll();
            return new BenchmarkMain.Row("redis cost per event", metric, micros, "us", note);
        }
    }

    private static List<String> locks(int b) {
        List<String> out = new ArrayList<>(N);
        for (int i = 0; i < N; i++) {
            out.add("bench:lock:x" + ((b * N + i) % 1000));
        }
        return out;
    }

    private static List<String> markers(int b) {
        List<String> out = new ArrayList<>(N);
        for (int i = 0; i < N; i++) {
            out.add("bench:processed:bench-" + (b * N + i));
        }
        return out;
    }

    private static List<String> owners(int b) {
        List<String> out = new ArrayList<>(N);
        for (int i = 0; i < N; i++) {
            out.add(OWNER + Integer.toString(b * N + i, 36));
        }
        return out;
    }

    private static List<String> ids() {
        List<String> out = new ArrayList<>(N);
        for (int i = 0; i < N; i++) {
            out.add("1-" + (i + 1));
        }
        return out;
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = ScriptCostScenario.class.getResourceAsStream("/dev/workflowworker/redis/" + name)) {
            if (in == null) {
                throw new IllegalStateException("script " + name + " not on the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}

package dev.workflowworker.benchmarks;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.wire.WireFormat;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.params.XReadParams;
import redis.clients.jedis.resps.StreamEntry;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The floors: a minimal XREADGROUP COUNT n + XACK loop with no locks, markers or retries — the
 * best this Redis allows for consuming the same events through a consumer group — and a bare
 * XREAD loop over two streams, which changes nothing in Redis: the least a reader that keeps its
 * position elsewhere (as the partitioned mode does) can pay.
 */
final class RawRedisScenario {

    private static final WireFormat CODEC = WireFormat.defaults();

    private RawRedisScenario() {
    }

    static void prepublish(String url, String stream, int n) {
        prepublish(url, stream, n, true);
    }

    static void prepublish(String url, String stream, int n, boolean fresh) {
        try (Jedis j = new Jedis(URI.create(url))) {
            if (fresh) {
                j.del(stream);
            }
            for (int i = 0; i < n; i += 1000) {
                Pipeline p = j.pipelined();
                for (int k = i; k < Math.min(n, i + 1000); k++) {
                    WorkflowEvent e = WorkflowEvent.builder("NOOP").eventId("bench-" + k)
                            .executionId("x" + (k % 1000)).build();
                    p.xadd(stream, StreamEntryID.NEW_ENTRY, CODEC.encode(e, 1));
                }
                p.sync();
            }
        }
    }

    static List<BenchmarkMain.Row> run(String url, int n) throws Exception {
        consume(url, Math.min(n, 100_000), false); // unmeasured: JIT and connections warm, as for the service
        double rate = consume(url, n, false);
        CpuMeter.Usage used = lastUsage;
        consume(url, Math.min(n, 100_000), true);
        double guarded = consume(url, n, true);
        CpuMeter.Usage usedGuarded = lastUsage;
        readOnly(url, Math.min(n, 100_000));
        double logRate = readOnly(url, n);
        CpuMeter.Usage usedLog = lastUsage;
        return List.of(new BenchmarkMain.Row("raw redis floor", "XREADGROUP+XACK loop", rate, "events/s",
                        "2 consumers, COUNT 500, " + n + " events"),
                new BenchmarkMain.Row("raw redis floor", "  CPU per event: Redis / JVM", used.redisMicrosPerEvent(),
                        "us", String.format("JVM %.1f us; %s", used.jvmMicrosPerEvent(), used.commands())),
                new BenchmarkMain.Row("raw XREAD floor", LOG_HEADLINE, logRate, "events/s",
                        "2 readers, one stream each, COUNT 500, " + n + " events; writes nothing"),
                new BenchmarkMain.Row("raw XREAD floor", "  CPU per event: Redis / JVM", usedLog.redisMicrosPerEvent(),
                        "us", String.format("JVM %.1f us; %s", usedLog.jvmMicrosPerEvent(), usedLog.commands())),
                new BenchmarkMain.Row("raw + guarantee writes", "same loop + lock SET/DEL + marker SET", guarded,
                        "events/s", "pipelined, no Lua, no checks: the writes the promises need, at their cheapest"),
                new BenchmarkMain.Row("raw + guarantee writes", "  CPU per event: Redis / JVM",
                        usedGuarded.redisMicrosPerEvent(), "us", String.format("JVM %.1f us; %s",
                                usedGuarded.jvmMicrosPerEvent(), usedGuarded.commands())));
    }

    static final String LOG_HEADLINE = "XREAD loop";

    private static CpuMeter.Usage lastUsage;

    /** Reads n events, half from each of two streams, by position alone: no group, no ack. */
    private static double readOnly(String url, int n) throws Exception {
        int readers = 2;
        String[] streams = new String[readers];
        for (int r = 0; r < readers; r++) {
            streams[r] = "bench:rawlog:" + r;
            prepublish(url, streams[r], n / readers + (r < n % readers ? 1 : 0));
        }
        AtomicLong consumed = new AtomicLong();
        CountDownLatch done = new CountDownLatch(readers);
        CpuMeter cpu = CpuMeter.start(url);
        long t0 = System.nanoTime();
        for (int r = 0; r < readers; r++) {
            String stream = streams[r];
            int share = n / readers + (r < n % readers ? 1 : 0);
            Thread t = new Thread(() -> {
                try (Jedis j = new Jedis(URI.create(url))) {
                    StreamEntryID last = new StreamEntryID(0, 0);
                    int read = 0;
                    while (read < share) {
                        List<Map.Entry<String, List<StreamEntry>>> reply = j.xread(
                                XReadParams.xReadParams().count(500), Map.of(stream, last));
                        if (reply == null || reply.isEmpty()) {
                            continue;
                        }
                        List<StreamEntry> entries = reply.get(0).getValue();
                        last = entries.get(entries.size() - 1).getID();
                        read += entries.size();
                        consumed.addAndGet(entries.size());
                    }
                } finally {
                    done.countDown();
                }
            });
            t.start();
        }
        done.await();
        double rate = n / ((System.nanoTime() - t0) / 1e9);
        lastUsage = cpu.stop(n);
        try (Jedis j = new Jedis(URI.create(url))) {
            j.flushAll();
        }
        return rate;
    }

    /**
     * @param guaranteeWrites also write, per event, what the service's guarantees need at the least:
     *                        take a lock (SET NX PX), write a processed marker (SET PX) and delete
     *                        the lock, pipelined with the XACK; no Lua, no ownership checks
     */
    private static double consume(String url, int n, boolean guaranteeWrites) throws Exception {
        String stream = "bench:raw";
        prepublish(url, stream, n);
        try (Jedis j = new Jedis(URI.create(url))) {
            j.xgroupCreate(stream, "g", new StreamEntryID(0, 0), false);
        }
        int consumers = 2;
        AtomicLong consumed = new AtomicLong();
        CountDownLatch done = new CountDownLatch(consumers);
        CpuMeter cpu = CpuMeter.start(url);
        long t0 = System.nanoTime();
        for (int c = 0; c < consumers; c++) {
            String name = "c" + c;
            Thread t = new Thread(() -> {
                try (Jedis j = new Jedis(URI.create(url))) {
                    while (consumed.get() < n) {
                        List<Map.Entry<String, List<StreamEntry>>> r = j.xreadGroup("g", name,
                                XReadGroupParams.xReadGroupParams().count(500).block(50),
                                Map.of(stream, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
                        if (r == null || r.isEmpty()) {
                            continue;
                        }
                        List<StreamEntry> entries = r.get(0).getValue();
                        List<StreamEntryID> ids = new ArrayList<>(entries.size());
                        for (StreamEntry e : entries) {
                            ids.add(e.getID());
                        }
                        if (guaranteeWrites) {
                            Pipeline p = j.pipelined();
                            for (StreamEntry e : entries) {
                                String lock = "bench:lock:" + e.getFields().get(WireFormat.EXECUTION_ID);
                                p.set(lock, name, SetParams.setParams().nx().px(30_000));
                                p.set("bench:processed:" + e.getFields().get(WireFormat.EVENT_ID), "1",
                                        SetParams.setParams().px(86_400_000));
                            }
                            p.xack(stream, "g", ids.toArray(new StreamEntryID[0]));
                            for (StreamEntry e : entries) {
                                p.del("bench:lock:" + e.getFields().get(WireFormat.EXECUTION_ID));
                            }
                            p.sync();
                        } else {
                            j.xack(stream, "g", ids.toArray(new StreamEntryID[0]));
                        }
                        consumed.addAndGet(entries.size());
                    }
                } finally {
                    done.countDown();
                }
            });
            t.start();
        }
        done.await();
        double rate = n / ((System.nanoTime() - t0) / 1e9);
        lastUsage = cpu.stop(n);
        try (Jedis j = new Jedis(URI.create(url))) {
            j.flushAll();
        }
        return rate;
    }
}

package dev.workflowworker.benchmarks;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.RedisEventTransport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import redis.clients.jedis.Jedis;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Delayed events and schedules on a partitioned stream: lateness (due time to handler start) at a
 * steady rate of due events, promotion of a backlog that is all due, Redis memory per waiting
 * event, and many schedules firing in the same minute.
 */
final class TimeScenario {

    private static final int PARTITIONS = PartitionedScenario.DEFAULT_PARTITIONS;

    private TimeScenario() {
    }

    static List<BenchmarkMain.Row> run(String url, int perSecond, int seconds, int promoted, int pending,
                                       int schedules) throws Exception {
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        rows.addAll(lateness(url, perSecond, seconds));
        rows.addAll(promotion(url, promoted));
        rows.addAll(memory(url, pending));
        if (schedules > 0) {
            rows.addAll(schedules(url, schedules));
        }
        return rows;
    }

    private static WorkerService service(String url, String stream, Consumer<EventContext> handler) {
        return WorkerService.builder()
                .transport(RedisEventTransport.create(PartitionedScenario.options(url, stream, PARTITIONS)))
                .runtime(handler::accept).workerCount(2).concurrencyLimit(64).batchSize(256)
                .pollInterval(Duration.ofMillis(100)).metricsReportingInterval(Duration.ofHours(1)).build();
    }

    /** Synchronous, with room: emptying a million waiting events takes Redis seconds, past Jedis' 2 s default. */
    private static void flush(String url) {
        try (Jedis j = new Jedis(URI.create(url), 120_000)) {
            j.flushAll();
        }
    }

    private static long dueOf(EventContext ctx) {
        return Instant.parse(ctx.event().headers().get(DelayedEvents.DUE_AT_HEADER)).toEpochMilli();
    }

    /**
     * Events published ahead (2 s before the first is due) with due times spread evenly at
     * {@code perSecond}; lateness is the handler's start minus the due-at header, both wall clocks
     * of this machine (Redis runs here too).
     */
    static List<BenchmarkMain.Row> lateness(String url, int perSecond, int seconds) throws Exception {
        flush(url);
        int n = perSecond * seconds;
        Recorder rec = new Recorder(3);
        CountDownLatch done = new CountDownLatch(n);
        WorkerService s = service(url, "bench:time-lateness", ctx -> {
            rec.recordValue(Math.max(0, System.currentTimeMillis() - dueOf(ctx)) * 1000);
            done.countDown();
        });
        s.start();
        DelayedEvents delayed = s.delayed().orElseThrow();
        long first = System.currentTimeMillis() + 2000 + n / 20; // room to publish them all first
        parallel(n, 4, i -> delayed.publishAt(WorkflowEvent.builder("DUE").eventId("due-" + i).executionId("x" + (i % 1000))
                .build(), Instant.ofEpochMilli(first + (long) i * 1000 / perSecond)));
        boolean all = done.await(seconds + 120L, TimeUnit.SECONDS);
        s.close();
        Histogram h = rec.getIntervalHistogram();
        String note = perSecond + " due/s for " + seconds + " s, " + h.getTotalCount() + " events"
                + (all ? "" : " (NOT ALL RAN)");
        return List.of(
                new BenchmarkMain.Row("delayed lateness", "due -> handler p50", h.getValueAtPercentile(50) / 1e3, "ms", note),
                new BenchmarkMain.Row("delayed lateness", "due -> handler p99", h.getValueAtPercentile(99) / 1e3, "ms", "target <= 20 ms"),
                new BenchmarkMain.Row("delayed lateness", "due -> handler max", h.getMaxValue() / 1e3, "ms", ""));
    }

    /**
     * A backlog of {@code n} delayed events all due already (an owner back after an outage): the
     * time from the service's start until the last is moved into the stream, while the service
     * also processes them.
     */
    static List<BenchmarkMain.Row> promotion(String url, int n) throws Exception {
        flush(url);
        String stream = "bench:time-promotion";
        try (RedisEventTransport t = RedisEventTransport.create(PartitionedScenario.options(url, stream, PARTITIONS))) {
            DelayedEvents d = t.delayed().orElseThrow();
            Instant past = Instant.now().minusSeconds(60);
            parallel(n, 8, i -> d.publishAt(WorkflowEvent.builder("DUE").eventId("p-" + i).executionId("x" + (i % 10_000))
                    .build(), past));
        }
        CountDownLatch done = new CountDownLatch(n);
        WorkerService s = service(url, stream, ctx -> done.countDown());
        CpuMeter cpu = CpuMeter.start(url);
        long t0 = System.nanoTime();
        s.start();
        DelayedEvents d = s.delayed().orElseThrow();
        while (d.waiting() > 0) {
            TimeUnit.MILLISECONDS.sleep(5);
        }
        double movedSeconds = (System.nanoTime() - t0) / 1e9;
        boolean all = done.await(5, TimeUnit.MINUTES);
        double processedSeconds = (System.nanoTime() - t0) / 1e9;
        CpuMeter.Usage u = cpu.stop(n);
        s.close();
        return List.of(
                new BenchmarkMain.Row("delayed promotion", "moved into the stream", n / movedSeconds, "events/s",
                        n + " due at once, moved while being processed; target >= 50,000"),
                new BenchmarkMain.Row("delayed promotion", "moved and processed", n / processedSeconds, "events/s",
                        all ? "" : "NOT ALL RAN"),
                new BenchmarkMain.Row("delayed promotion", "Redis CPU per event, moved and processed",
                        u.redisMicrosPerEvent(), "us", u.commands()));
    }

    /**
     * Redis memory per waiting delayed event (used_memory before and after), beside the size of the
     * entry it becomes in the stream: its wire fields, names and values in UTF-8, as XADD gets them
     * (the ratio's denominator). The note adds the bytes of the stored form and the two keys' share
     * by MEMORY USAGE (partition 0, every element counted).
     */
    static List<BenchmarkMain.Row> memory(String url, int n) throws Exception {
        flush(url);
        long before;
        try (Jedis j = new Jedis(URI.create(url))) {
            before = used(j);
        }
        String stream = "bench:time-memory";
        Instant later = Instant.now().plus(Duration.ofDays(30));
        java.util.function.IntFunction<WorkflowEvent> event = i -> WorkflowEvent.builder("REMIND").eventId("m-" + i)
                .executionId("ticket-" + (i % 100_000)).payload(Map.of("ticket_id", i)).build();
        try (RedisEventTransport t = RedisEventTransport.create(PartitionedScenario.options(url, stream, PARTITIONS))) {
            DelayedEvents d = t.delayed().orElseThrow();
            parallel(n, 8, i -> d.publishAt(event.apply(i), later));
        }
        try (Jedis j = new Jedis(URI.create(url), 120_000)) {
            long after = used(j);
            String set = "{" + stream + "#0}:delayed";
            String key = set + ":e";
            String field = j.hkeys(key).iterator().next();
            long stored = j.hstrlen(key, field);
            long inPartition = j.zcard(set);
            long setBytes = memoryUsage(j, set);
            long entriesBytes = memoryUsage(j, key);
            // The same event as the publisher writes it: with its due-at header, attempt 1.
            WorkflowEvent sample = event.apply(Integer.parseInt(field.substring(2)));
            Map<String, String> headers = new java.util.HashMap<>(sample.headers());
            headers.put(DelayedEvents.DUE_AT_HEADER, java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
                    .withZone(java.time.ZoneOffset.UTC).format(later));
            Map<String, String> wire = WireFormat.defaults().encode(sample.toBuilder().headers(headers).build(), 1);
            long fieldBytes = 0;
            long packedBytes = 0;
            for (Map.Entry<String, String> f : wire.entrySet()) {
                for (String s : new String[] {f.getKey(), f.getValue()}) {
                    int len = s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                    fieldBytes += len;
                    packedBytes += Integer.toString(len).length() + 1 + len;
                }
            }
            double per = (after - before) / (double) n;
            return List.of(
                    new BenchmarkMain.Row("delayed memory", "Redis bytes per waiting event", per, "B",
                            String.format("%d waiting; the entry's wire fields (names and values) are %d B, its stored form %d B"
                                            + " (packed with names: %d B); partition 0 by MEMORY USAGE: sorted set %.0f B,"
                                            + " entries %.0f B per event", n, fieldBytes, stored, packedBytes,
                                    setBytes / (double) inPartition, entriesBytes / (double) inPartition)),
                    new BenchmarkMain.Row("delayed memory", "per waiting event / its wire fields", per / fieldBytes, "x",
                            String.format("target <= 1.5; per waiting event / the fields packed with names: %.2f",
                                    per / packedBytes)));
        }
    }

    private static long memoryUsage(Jedis j, String key) {
        Long bytes = j.memoryUsage(key, 0);
        return bytes == null ? 0 : bytes;
    }

    /**
     * {@code n} schedules firing every minute, all at second 0: Redis CPU and the owner's JVM CPU
     * per occurrence over the minute in which they fire, and how late the last one started.
     */
    static List<BenchmarkMain.Row> schedules(String url, int n) throws Exception {
        flush(url);
        AtomicLong latest = new AtomicLong();
        CountDownLatch fired = new CountDownLatch(n);
        WorkerService s = service(url, "bench:time-schedules", ctx -> {
            latest.accumulateAndGet(System.currentTimeMillis() - dueOf(ctx), Math::max);
            fired.countDown();
        });
        s.start();
        Schedules sc = s.schedules().orElseThrow();
        parallel(n, 8, i -> sc.put(Schedule.cron("s-" + i, "* * * * *").eventType("TICK")
                .executionId("s-" + i).build()));
        // Measure from just before the next minute's occurrences until all ran.
        long nextMinute = (System.currentTimeMillis() / 60_000 + 1) * 60_000;
        long wait = nextMinute - 500 - System.currentTimeMillis();
        if (wait > 0) {
            TimeUnit.MILLISECONDS.sleep(wait);
        }
        CpuMeter cpu = CpuMeter.start(url);
        boolean all = fired.await(2, TimeUnit.MINUTES);
        CpuMeter.Usage u = cpu.stop(n);
        s.close();
        String note = n + " schedules every minute" + (all ? "" : " (NOT ALL FIRED)");
        return List.of(
                new BenchmarkMain.Row("schedules", "Redis CPU per occurrence", u.redisMicrosPerEvent(), "us",
                        note + "; " + u.commands()),
                new BenchmarkMain.Row("schedules", "JVM CPU per occurrence", u.jvmMicrosPerEvent(), "us",
                        "owner firing + processing: " + u.jvmThreads()),
                new BenchmarkMain.Row("schedules", "due -> last handler start", latest.get(), "ms", ""));
    }

    private static long used(Jedis j) {
        for (String line : j.info("memory").split("\r?\n")) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()).trim());
            }
        }
        throw new IllegalStateException("no used_memory in INFO memory");
    }

    interface Task {
        void run(int i) throws Exception;
    }

    /** Runs {@code task} for 0..n-1 over {@code threads} threads, each publishing its share in order. */
    private static void parallel(int n, int threads, Task task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                fs.add(pool.submit(() -> {
                    for (int i = first; i < n; i += threads) {
                        task.run(i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

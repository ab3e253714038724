package dev.workflowworker.benchmarks;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.Jedis;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** WorkerService on Redis with every guarantee on: throughput, latency and memory. */
final class RedisServiceScenario {

    private RedisServiceScenario() {
    }

    private static WorkerService service(String url, String stream, int workers, int concurrency, int batch,
                                         Consumer<EventContext> handler) {
        // The shared stream's rows: its mode stays explicit now that partitioned is the default.
        RedisOptions options = RedisOptions.fromUri(url).toBuilder().stream(stream).partitions(0).build();
        return WorkerService.builder().transport(RedisEventTransport.create(options))
                .runtime(handler::accept).workerCount(workers).concurrencyLimit(concurrency).batchSize(batch)
                .pollInterval(Duration.ofMillis(100)).metricsReportingInterval(Duration.ofHours(1)).build();
    }

    /** The configurations tried by default: workers x concurrency x batch. */
    static final String DEFAULT_CONFIGS = "2x16x64,4x64x256,4x128x256,2x256x512";

    static List<BenchmarkMain.Row> throughput(String url, int n, String configList) throws Exception {
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        int[][] configs = java.util.Arrays.stream(configList.split(","))
                .map(c -> java.util.Arrays.stream(c.trim().split("x")).mapToInt(Integer::parseInt).toArray())
                .toArray(int[][]::new);
        double best = 0;
        String bestNote = "";
        // Unmeasured passes first, as JMH would: otherwise the measured passes pay for JIT
        // compilation and thread start-up that the raw loop, with far less code, barely needs.
        // Profiles showed C2 still busy after one pass of 100,000 events, hence two longer ones.
        for (int i = 0; i < 2; i++) {
            warmUp(url, Math.min(n, 200_000), configs[configs.length - 1]);
        }
        for (int[] c : configs) {
            warmUp(url, Math.min(n, 100_000), c);
            String stream = "bench:svc:" + c[0] + "x" + c[1];
            RawRedisScenario.prepublish(url, stream, n);
            CountDownLatch done = new CountDownLatch(n);
            WorkerService s = service(url, stream, c[0], c[1], c[2], ctx -> done.countDown());
            CpuMeter cpu = CpuMeter.start(url);
            long t0 = System.nanoTime();
            s.start();
            done.await(10, TimeUnit.MINUTES);
            double rate = (n - done.getCount()) / ((System.nanoTime() - t0) / 1e9);
            CpuMeter.Usage used = cpu.stop(n);
            s.close();
            String note = c[0] + " workers x " + c[1] + ", batch " + c[2];
            rows.add(new BenchmarkMain.Row("redis throughput", "WorkerService no-op, " + note, rate, "events/s",
                    n + " pre-published, locks+markers+atomic acks on"));
            rows.add(new BenchmarkMain.Row("redis throughput", "  CPU per event: Redis / JVM",
                    used.redisMicrosPerEvent(), "us", String.format("JVM %.1f us; %s", used.jvmMicrosPerEvent(),
                    used.commands())));
            if (rate > best) {
                best = rate;
                bestNote = note;
            }
            try (Jedis j = new Jedis(URI.create(url))) {
                j.flushAll();
            }
        }
        rows.add(new BenchmarkMain.Row("redis throughput", "best", best, "events/s", bestNote));
        return rows;
    }

    private static void warmUp(String url, int n, int[] c) throws Exception {
        String stream = "bench:svc:warmup";
        RawRedisScenario.prepublish(url, stream, n);
        CountDownLatch done = new CountDownLatch(n);
        WorkerService s = service(url, stream, c[0], c[1], c[2], ctx -> done.countDown());
        s.start();
        done.await(10, TimeUnit.MINUTES);
        s.close();
        try (Jedis j = new Jedis(URI.create(url))) {
            j.flushAll();
        }
    }

    static List<BenchmarkMain.Row> latency(String url, int perSecond, int seconds) throws Exception {
        PacedLatency load = new PacedLatency("latency-shared", perSecond);
        WorkerService s = service(url, "bench:latency", 2, 8, 16, load.handler());
        s.start();
        try {
            return load.run(s, seconds, "latency", "");
        } finally {
            s.close();
        }
    }

    static List<BenchmarkMain.Row> memory(String url, int n) throws Exception {
        try (Jedis j = new Jedis(URI.create(url))) {
            j.flushAll();
            long before = usedMemory(j);
            Runtime rt = Runtime.getRuntime();
            System.gc();
            long heapBefore = rt.totalMemory() - rt.freeMemory();
            CountDownLatch done = new CountDownLatch(n);
            RedisOptions options = RedisOptions.fromUri(url).toBuilder().stream("bench:memory").partitions(0)
                    .processedTtl(Duration.ofSeconds(5)).trimInterval(Duration.ofSeconds(1)).build();
            WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                    .runtime(ctx -> done.countDown()).workerCount(4).concurrencyLimit(16).batchSize(64)
                    .pollInterval(Duration.ofMillis(100)).metricsReportingInterval(Duration.ofHours(1)).build();
            s.start();
            List<WorkflowEvent> batch = new ArrayList<>(1000);
            for (int i = 0; i < n; i++) {
                batch.add(WorkflowEvent.builder("NOOP").executionId("x" + (i % 1000)).build());
                if (batch.size() == 1000) {
                    s.publisher().publishAll(batch);
                    batch.clear();
                }
            }
            done.await(30, TimeUnit.MINUTES);
            Thread.sleep(6000); // markers expire (5 s TTL here) and the transport trims the stream (every 1 s here)
            s.close();
            System.gc();
            long heapAfter = rt.totalMemory() - rt.freeMemory();
            long after = usedMemory(j);
            return List.of(
                    new BenchmarkMain.Row("memory", "Redis used_memory before", before / 1048576.0, "MiB", ""),
                    new BenchmarkMain.Row("memory", "Redis used_memory after " + n + " events", after / 1048576.0,
                            "MiB", "stream trimmed by the transport, markers expired"),
                    new BenchmarkMain.Row("memory", "JVM heap after GC, before", heapBefore / 1048576.0, "MiB", ""),
                    new BenchmarkMain.Row("memory", "JVM heap after GC, after", heapAfter / 1048576.0, "MiB", ""));
        }
    }

    private static long usedMemory(Jedis j) {
        for (String line : j.info("memory").split("\r?\n")) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()).trim());
            }
        }
        return -1;
    }
}
